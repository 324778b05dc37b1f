import { mkdirSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, platform, arch } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from './lib/child';
import { readOptions } from './lib/options';
import { renderTable } from './lib/table';
import type { BenchContext, BenchOptions, Json, Table } from './lib/types';
import { sections } from './sections';

/**
 * `npm run bench`: runs the sections of test/bench/sections in order, prints
 * their tables on stdout (progress goes to stderr) and writes everything to
 * bench-results/latest.json. Figures are reported, never asserted; the exit
 * code is non-zero only when a section could not run at all.
 *
 * Knobs (environment): BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (10),
 * BENCH_COLD_RUNS (7, min 5), BENCH_VAULT_N (1000), BENCH_VAULT_CONTAINERS (4),
 * BENCH_WEBHOOK_N (unset: up to 1000 per row within 2 s), BENCH_DISPATCH_N
 * (10000,100000), BENCH_DISPATCH_BUDGET (s, 90), BENCH_SYNC_RECORDS (10000),
 * BENCH_SYNC_PAGE_SIZES (100,1000), BENCH_SYNC_CHANGES (100), BENCH_KMS_N
 * (1000), BENCH_KMS_CONTAINERS (1,4,16), BENCH_KMS_CYCLES (5), BENCH_SECTIONS
 * (comma-separated ids), BENCH_FUNCTIONS (comma-separated manifest names, for
 * the bundle sections), BENCH_OUT (bench-results/latest.json).
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

interface SectionReport {
  title: string;
  seconds: number;
  tables: Table[];
  data: Json | null;
  error: string | null;
}

interface Report {
  generatedAt: string;
  node: string;
  platform: string;
  cpus: { count: number; model: string };
  options: BenchOptions;
  sections: Record<string, SectionReport>;
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

async function main(): Promise<number> {
  const options = readOptions(root);
  const unknown = (options.sections ?? []).filter((id) => !sections.some((section) => section.id === id));
  if (unknown.length > 0) {
    throw new Error(`Unknown BENCH_SECTIONS ${unknown.join(', ')}; known: ${sections.map((section) => section.id).join(', ')}`);
  }
  const selected = sections.filter((section) => !options.sections || options.sections.includes(section.id));

  // Inside node_modules so bundles resolve their external packages, and ignored by git either way.
  const cacheDir = join(root, 'node_modules', '.cache', 'bench');
  const workDir = join(cacheDir, `run-${process.pid}-${Date.now()}`);
  // The first directory mkdir created (node_modules/.cache or .../bench); removed again at the end if empty.
  const createdDir = mkdirSync(workDir, { recursive: true });

  const cpuList = cpus();
  const report: Report = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpus: { count: availableParallelism(), model: cpuList[0]?.model.trim() ?? 'unknown' },
    options,
    sections: {},
  };
  const cleanups: (() => Promise<void> | void)[] = [];
  const memos = new Map<string, Promise<unknown>>();
  const context: BenchContext = {
    root,
    workDir,
    options,
    log,
    memo<T>(key: string, compute: () => Promise<T>): Promise<T> {
      let value = memos.get(key) as Promise<T> | undefined;
      if (!value) {
        value = compute();
        memos.set(key, value);
      }
      return value;
    },
    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },
    earlier(sectionId) {
      return report.sections[sectionId]?.data ?? undefined;
    },
  };

  let cleanedUp = false;
  const cleanUp = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log(`cleanup failed: ${errorMessage(error)}`);
      }
    }
    rmSync(workDir, { recursive: true, force: true });
    // Empty parents this run created go too; a concurrent run's files keep them.
    for (const dir of [cacheDir, dirname(cacheDir)]) {
      if (!createdDir || !dir.startsWith(createdDir)) break;
      try {
        if (readdirSync(dir).length === 0) rmdirSync(dir);
      } catch {
        break;
      }
    }
  };
  const interrupted = (signal: string) => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupted('SIGINT'));
  process.once('SIGTERM', () => interrupted('SIGTERM'));

  process.stdout.write(
    `# hr-integrations benchmark\n\nnode ${report.node} on ${report.platform}, ${report.cpus.count} CPUs (${report.cpus.model}), ${report.generatedAt}\n`,
  );

  let failures = 0;
  const started = performance.now();
  try {
    for (const section of selected) {
      log(`section ${section.id}: ${section.title}`);
      const sectionStarted = performance.now();
      try {
        const output = await section.run(context);
        const seconds = (performance.now() - sectionStarted) / 1000;
        for (const table of output.tables) process.stdout.write(`\n${renderTable(table)}\n`);
        report.sections[section.id] = { title: section.title, seconds, tables: output.tables, data: output.data ?? null, error: null };
        log(`section ${section.id} done in ${seconds.toFixed(1)}s`);
      } catch (error) {
        failures += 1;
        const seconds = (performance.now() - sectionStarted) / 1000;
        const message = errorMessage(error);
        process.stdout.write(`\n## ${section.title}\n\nSECTION FAILED: ${message}\n`);
        if (error instanceof Error && error.stack) log(error.stack);
        report.sections[section.id] = { title: section.title, seconds, tables: [], data: null, error: message };
      }
    }
  } finally {
    await cleanUp();
  }

  mkdirSync(dirname(options.outFile), { recursive: true });
  writeFileSync(options.outFile, `${JSON.stringify(report, null, 2)}\n`);
  const total = (performance.now() - started) / 1000;
  process.stdout.write(`\nWrote ${relative(root, options.outFile)} (${total.toFixed(0)}s, ${failures} section(s) failed)\n`);
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
