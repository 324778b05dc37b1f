import { resolve } from 'node:path';
import { z } from 'zod';
import type { BenchOptions } from './types';

/** A comma-separated list of positive integers (`10000,100000`), each within `max`. */
const intList = (fallback: string, max: number) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)
        .map(Number),
    )
    .pipe(z.array(z.number().int().min(1).max(max)).min(1));

/** The benchmark's knobs, from the environment (all optional). */
const optionsSchema = z.object({
  BENCH_DURATION: z.coerce.number().int().min(1).max(600).default(10),
  BENCH_CONNECTIONS: z.coerce.number().int().min(1).max(1000).default(10),
  BENCH_COLD_RUNS: z.coerce.number().int().min(5).max(100).default(7),
  BENCH_VAULT_N: z.coerce.number().int().min(1).max(100_000).default(1000),
  BENCH_VAULT_CONTAINERS: z.coerce.number().int().min(1).max(100).default(4),
  BENCH_WEBHOOK_N: z.coerce.number().int().min(10).max(100_000).optional(),
  BENCH_DISPATCH_N: intList('10000,100000', 1_000_000),
  BENCH_DISPATCH_BUDGET: z.coerce.number().min(5).max(3600).default(90),
  BENCH_SYNC_RECORDS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  BENCH_SYNC_PAGE_SIZES: intList('100,1000', 10_000),
  BENCH_SYNC_CHANGES: z.coerce.number().int().min(1).max(100_000).default(100),
  BENCH_KMS_N: z.coerce.number().int().min(1).max(100_000).default(1000),
  BENCH_KMS_CONTAINERS: intList('1,4,16', 1000),
  BENCH_KMS_CYCLES: z.coerce.number().int().min(2).max(100).default(5),
  BENCH_SECTIONS: z.string().optional(),
  BENCH_FUNCTIONS: z.string().optional(),
  BENCH_OUT: z.string().min(1).default('bench-results/latest.json'),
});

export function readOptions(root: string, env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const present = Object.fromEntries(Object.entries(env).filter(([name, value]) => name.startsWith('BENCH_') && value !== ''));
  const parsed = optionsSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid benchmark options: ${problems.join('; ')}`);
  }
  const options = parsed.data;
  const sections = options.BENCH_SECTIONS?.split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const functions = options.BENCH_FUNCTIONS?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  return {
    durationSeconds: options.BENCH_DURATION,
    connections: options.BENCH_CONNECTIONS,
    coldRuns: options.BENCH_COLD_RUNS,
    vaultIntegrations: options.BENCH_VAULT_N,
    vaultContainers: options.BENCH_VAULT_CONTAINERS,
    webhookInvocations: options.BENCH_WEBHOOK_N,
    dispatchSizes: [...new Set(options.BENCH_DISPATCH_N)].sort((a, b) => a - b),
    dispatchBudgetSeconds: options.BENCH_DISPATCH_BUDGET,
    syncRecords: options.BENCH_SYNC_RECORDS,
    syncPageSizes: [...new Set(options.BENCH_SYNC_PAGE_SIZES)],
    syncChanges: options.BENCH_SYNC_CHANGES,
    kmsIntegrations: options.BENCH_KMS_N,
    kmsContainers: [...new Set(options.BENCH_KMS_CONTAINERS)].sort((a, b) => a - b),
    kmsCycles: options.BENCH_KMS_CYCLES,
    sections: sections && sections.length > 0 ? sections : undefined,
    functions: functions && functions.length > 0 ? functions : undefined,
    outFile: resolve(root, options.BENCH_OUT),
  };
}
