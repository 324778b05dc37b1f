import type { KMSClient } from '@aws-sdk/client-kms';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { SealedToken, TokenContext, TokenVault } from '../../../shared/crypto/vault';
import { BENCH_KMS_KEY_ARN, CountingKms } from '../lib/kms';
import { countDynamoRequests, inProcessStore } from '../lib/store';
import type { Json, Row, Section } from '../lib/types';

/**
 * KMS requests per 15-minute sync cycle with KMS branch keys (the
 * TOKEN_KMS_KEY_ARN mode: a counting stub KMS, branch-key items in dynalite).
 * One container seals a token for each of N integrations; then, for each
 * container count C, C fresh containers (a TokenVault over its own
 * KmsBranchKeys each: cold) open the tokens of the integrations dispatched to
 * them (round-robin) once per cycle, on a simulated clock 15 minutes apart,
 * so the branch-key cache (1 hour) is warm for the next cycles and expires on
 * the fifth. Tokens are kept in memory: the token item reads are not counted
 * here (the sync-records section has them).
 */
const CYCLE_MS = 15 * 60 * 1000;
/** KmsBranchKeys' default cache lifetime, used explicitly so the expectation below is computed from it. */
const CACHE_TTL_MS = 60 * 60 * 1000;

const tokenSchema = z.object({ accessToken: z.string(), refreshToken: z.string(), expiresAt: z.string() });
type TokenJson = z.infer<typeof tokenSchema>;

interface SealedEntry {
  sealed: SealedToken;
  context: TokenContext;
  token: TokenJson;
}

interface CycleRow {
  containers: number;
  cycle: number;
  minute: number;
  state: string;
  opens: number;
  generateDataKey: number;
  decrypt: number;
  kms: number;
  expectedKms: number;
  dynamo: number;
  wallMs: number;
}

const PROVIDERS = ['slack', 'google', 'microsoft'] as const;

export const kmsCycleSection: Section = {
  id: 'kms-cycle',
  title: 'KMS requests per sync cycle',
  async run(context) {
    const { kmsIntegrations: n, kmsContainers: containerCounts, kmsCycles: cycles } = context.options;
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const [{ GenerateDataKeyCommand, DecryptCommand }, { KmsBranchKeys }, { TokenVault: Vault }, { newIntegrationId }] = await Promise.all([
      import('@aws-sdk/client-kms'),
      import('../../../shared/crypto/kms-branch-keys'),
      import('../../../shared/crypto/vault'),
      import('../../../shared/store/integrations'),
    ]);
    const kms = new CountingKms({ GenerateDataKey: GenerateDataKeyCommand, Decrypt: DecryptCommand });
    // The stub implements the one method KmsBranchKeys calls.
    const kmsClient = kms as unknown as KMSClient;

    // 1. Tokens for N integrations, sealed by one container (what connect and refresh store over time).
    context.log(`kms-cycle: sealing tokens for ${n} integrations with KMS branch keys`);
    const sealKmsBefore = kms.snapshot();
    const sealDynamoBefore = counter.total();
    const sealStarted = performance.now();
    const sealer = new Vault(new KmsBranchKeys(kmsClient, BENCH_KMS_KEY_ARN));
    const sealed: SealedEntry[] = [];
    for (let index = 0; index < n; index += 1) {
      const tokenContext: TokenContext = {
        orgId: `bench-kms-org-${Math.floor(index / 10)}`,
        integrationId: newIntegrationId(),
        provider: PROVIDERS[index % PROVIDERS.length] ?? 'slack',
        kind: 'oauth',
      };
      const token: TokenJson = {
        accessToken: `ya29.${randomBytes(48).toString('base64url')}`,
        refreshToken: `1//${randomBytes(40).toString('base64url')}`,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      };
      sealed.push({ sealed: await sealer.sealJson(token, tokenContext), context: tokenContext, token });
    }
    const seal = {
      generateDataKey: kms.calls.GenerateDataKey - sealKmsBefore.GenerateDataKey,
      decrypt: kms.calls.Decrypt - sealKmsBefore.Decrypt,
      dynamo: counter.total() - sealDynamoBefore,
      wallMs: performance.now() - sealStarted,
    };

    // 2. Per container count: cold containers, then the same containers warm, one cycle every 15 simulated minutes.
    const rows: CycleRow[] = [];
    const t0 = Date.now();
    for (const c of containerCounts) {
      let simulatedNow = t0;
      const clock = () => simulatedNow;
      const fleet: TokenVault[] = Array.from({ length: c }, () => new Vault(new KmsBranchKeys(kmsClient, BENCH_KMS_KEY_ARN, CACHE_TTL_MS, clock)));
      let loadedAt: number | undefined;
      context.log(`kms-cycle: ${c} container(s), ${cycles} cycles of ${n} token opens`);
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        simulatedNow = t0 + cycle * CYCLE_MS;
        const reload = loadedAt === undefined || simulatedNow - loadedAt >= CACHE_TTL_MS;
        const state = loadedAt === undefined ? 'cold' : reload ? 'warm, cache expired' : 'warm';
        if (reload) loadedAt = simulatedNow;
        const before = kms.snapshot();
        const dynamoBefore = counter.total();
        const started = performance.now();
        for (let index = 0; index < sealed.length; index += 1) {
          const entry = sealed[index];
          const vault = fleet[index % c];
          if (!entry || !vault) throw new Error('kms-cycle: missing token or container');
          const opened = await vault.openJson(entry.sealed, entry.context, tokenSchema);
          if (opened.accessToken !== entry.token.accessToken) throw new Error('kms-cycle: opened token does not match the sealed one');
        }
        const generateDataKey = kms.calls.GenerateDataKey - before.GenerateDataKey;
        const decrypt = kms.calls.Decrypt - before.Decrypt;
        rows.push({
          containers: c,
          cycle,
          minute: cycle * 15,
          state,
          opens: sealed.length,
          generateDataKey,
          decrypt,
          kms: generateDataKey + decrypt,
          // One unwrap per container that received work, on a cold or expired cache.
          expectedKms: reload ? Math.min(c, sealed.length) : 0,
          dynamo: counter.total() - dynamoBefore,
          wallMs: performance.now() - started,
        });
      }
    }

    const unexpected = rows.filter((row) => row.kms !== row.expectedKms);
    const cyclesPerTtl = CACHE_TTL_MS / CYCLE_MS;
    const summary: Row[] = containerCounts.map((c) => {
      const own = rows.filter((row) => row.containers === c);
      // The first hour: the cycles within one cache lifetime from the cold start (0, 15, 30, 45 min).
      const hour = own.filter((row) => row.minute * 60_000 < CACHE_TTL_MS);
      const hourKms = hour.reduce((sum, row) => sum + row.kms, 0);
      return {
        containers: c,
        cold: own[0]?.kms ?? null,
        warm: own.filter((row) => row.state === 'warm').reduce((max, row) => Math.max(max, row.kms), 0),
        cycles: own.length,
        total: own.reduce((sum, row) => sum + row.kms, 0),
        hourCycles: hour.length,
        perHour: hour.length === cyclesPerTtl ? hourKms : null,
        perCycle: hour.length === cyclesPerTtl ? hourKms / hour.length : null,
        perTokenEnvelope: n,
      };
    });

    return {
      tables: [
        {
          title: `KMS requests per 15-minute cycle: ${n} integrations' tokens opened by C containers (KMS branch keys, counting stub KMS, simulated clock)`,
          columns: [
            { key: 'containers', title: 'C' },
            { key: 'cycle', title: 'cycle' },
            { key: 'minute', title: 't (min)' },
            { key: 'state', title: 'containers' },
            { key: 'opens', title: 'token opens' },
            { key: 'generateDataKey', title: 'GenerateDataKey' },
            { key: 'decrypt', title: 'Decrypt' },
            { key: 'kms', title: 'KMS total' },
            { key: 'expectedKms', title: 'expected' },
            { key: 'dynamo', title: 'DynamoDB reqs' },
            { key: 'wallMs', title: 'wall ms', digits: 0 },
          ],
          rows: rows.map((row): Row => ({ ...row })),
          notes: [
            `sealing the ${n} tokens first (one container, real clock): GenerateDataKey ${seal.generateDataKey}, Decrypt ${seal.decrypt}, DynamoDB ${seal.dynamo} requests, ${seal.wallMs.toFixed(0)} ms (Decrypt when an earlier section already created the branch key in the shared table)`,
            `integrations are dispatched round-robin: container k opens the tokens of integrations k, k+C, k+2C…; each container is a fresh TokenVault over its own KmsBranchKeys (cache ${CACHE_TTL_MS / 60_000} min)`,
            `expected: C on the cold cycle (one Decrypt of the branch key per container), 0 while the cache holds, C again once it is ${CACHE_TTL_MS / 60_000} min old (every ${cyclesPerTtl} cycles)`,
            `DynamoDB reqs: the branch-key item read on a cold or expired cache (token items are in memory here)`,
            `rows where KMS total != expected: ${unexpected.length === 0 ? 'none' : unexpected.map((row) => `C=${row.containers} cycle ${row.cycle}`).join(', ')}`,
          ],
        },
        {
          title: `KMS requests per container count over ${cycles} cycles (${((cycles - 1) * 15)} simulated minutes)`,
          columns: [
            { key: 'containers', title: 'C' },
            { key: 'cold', title: 'cold cycle' },
            { key: 'warm', title: 'warm cycle (max)' },
            { key: 'cycles', title: 'cycles' },
            { key: 'total', title: 'KMS total' },
            { key: 'perHour', title: `KMS per hour (${cyclesPerTtl} cycles)` },
            { key: 'perCycle', title: 'KMS/cycle (hourly mean)', digits: 2 },
            { key: 'perTokenEnvelope', title: 'KMS/cycle with a KMS envelope per token' },
          ],
          rows: summary,
          notes: [
            'per hour: the measured cycles at 0, 15, 30 and 45 min (the cache is loaded once, on the cold cycle); the next hour starts with the reload at 60 min',
            'each container unwraps the branch key once per cache lifetime, so KMS requests grow with containers, not integrations; a recycled container starts cold again (one more Decrypt)',
          ],
        },
      ],
      data: {
        integrations: n,
        containerCounts,
        cycles,
        cycleMinutes: CYCLE_MS / 60_000,
        cacheTtlMinutes: CACHE_TTL_MS / 60_000,
        seal,
        rows: rows.map((row): Json => ({ ...row })),
        unexpectedRows: unexpected.length,
      },
    };
  },
};
