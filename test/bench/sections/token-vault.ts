import type { KMSClient } from '@aws-sdk/client-kms';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SealedToken, TokenContext, TokenVault } from '../../../shared/crypto/vault';
import { BENCH_KMS_KEY_ARN as KMS_KEY_ARN, CountingKms } from '../lib/kms';
import { inProcessStore } from '../lib/store';
import { mean, median, percentile } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/**
 * The token vault's cost: KMS requests with KMS branch keys (a counting stub
 * KMS, branch-key items in dynalite), the stored size of a sealed token, and
 * seal/open time per operation with the local keyring.
 */

const TIMING_SAMPLES = 2000;
const TIMING_WARMUP = 200;

const tokenSchema = z.object({ accessToken: z.string(), refreshToken: z.string(), expiresAt: z.string() });
type TokenJson = z.infer<typeof tokenSchema>;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (length: number): string =>
  Array.from(randomBytes(length), (byte) => ALPHABET[byte % ALPHABET.length] ?? 'x').join('');
const digits = (length: number): string => Array.from(randomBytes(length), (byte) => String(byte % 10)).join('');

/** A Slack-like token pair: ~60-character access and refresh tokens and an ISO expiry. */
function typicalToken(): TokenJson {
  return {
    accessToken: `xoxb-${digits(13)}-${digits(13)}-${randomText(28)}`,
    refreshToken: `xoxe-1-${randomText(53)}`,
    expiresAt: new Date(Date.parse('2025-06-01T12:00:00.000Z') + 12 * 3600_000).toISOString(),
  };
}

const providers = ['slack', 'google', 'microsoft'];
function contextFor(integrationId: string, index: number): TokenContext {
  return { orgId: 'bench-org', integrationId, provider: providers[index % providers.length] ?? 'slack', kind: 'oauth' };
}

/** Times `operation` once per sample after a warm-up; returns microseconds per call. */
async function timeEach(samples: number, warmup: number, operation: (index: number) => Promise<unknown>): Promise<number[]> {
  for (let index = 0; index < warmup; index += 1) await operation(index);
  const micros: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const started = performance.now();
    await operation(index);
    micros.push((performance.now() - started) * 1000);
  }
  return micros;
}

async function openAll(
  vault: TokenVault,
  sealed: readonly { sealed: SealedToken; context: TokenContext; token: TokenJson }[],
): Promise<number[]> {
  const micros: number[] = [];
  for (const entry of sealed) {
    const started = performance.now();
    const opened = await vault.openJson(entry.sealed, entry.context, tokenSchema);
    micros.push((performance.now() - started) * 1000);
    if (opened.accessToken !== entry.token.accessToken) throw new Error('opened token does not match the sealed one');
  }
  return micros;
}

export const tokenVaultSection: Section = {
  id: 'vault',
  title: 'Token vault',
  async run(context) {
    const { vaultIntegrations: n, vaultContainers: containers } = context.options;
    await inProcessStore(context);
    const [{ GenerateDataKeyCommand: GenerateDataKey, DecryptCommand: Decrypt }, { KmsBranchKeys }, { TokenVault: Vault }, { StaticWrappingKeys }, { dynamo }, { newIntegrationId }] =
      await Promise.all([
        import('@aws-sdk/client-kms'),
        import('../../../shared/crypto/kms-branch-keys'),
        import('../../../shared/crypto/vault'),
        import('../../../shared/crypto/wrapping-keys'),
        import('../../../shared/store/client'),
        import('../../../shared/store/integrations'),
      ]);

    // Count the DynamoDB requests the branch keys make (keyring items).
    let dynamoCalls = 0;
    dynamo().middlewareStack.add(
      (next) => async (args) => {
        dynamoCalls += 1;
        return next(args);
      },
      { step: 'initialize', name: 'benchDynamoCounter' },
    );

    const kms = new CountingKms({ GenerateDataKey, Decrypt });
    // The stub implements the one method KmsBranchKeys calls; the cast is the price of not mocking the whole client.
    const kmsClient = kms as unknown as KMSClient;

    // 1. One container seals a token for each of N integrations.
    context.log(`vault: sealing ${n} tokens with KMS branch keys, then ${containers} containers open them all`);
    const sealer = new Vault(new KmsBranchKeys(kmsClient, KMS_KEY_ARN));
    const sealed: { sealed: SealedToken; context: TokenContext; token: TokenJson }[] = [];
    const sealMicros: number[] = [];
    const sealStarted = performance.now();
    for (let index = 0; index < n; index += 1) {
      const tokenContext = contextFor(newIntegrationId(), index);
      const token = typicalToken();
      const started = performance.now();
      sealed.push({ sealed: await sealer.sealJson(token, tokenContext), context: tokenContext, token });
      sealMicros.push((performance.now() - started) * 1000);
    }
    const sealKms = kms.total;
    const phases: Row[] = [
      {
        phase: `seal ${n} tokens (1 container)`,
        ops: n,
        generateDataKey: kms.calls.GenerateDataKey,
        decrypt: kms.calls.Decrypt,
        kms: kms.total,
        dynamo: dynamoCalls,
        wallMs: performance.now() - sealStarted,
        medianUs: median(sealMicros),
      },
    ];

    // 2. C warm containers (fresh branch-key cache and vault each) open every token.
    const perContainer: Json[] = [];
    for (let container = 1; container <= containers; container += 1) {
      const before = kms.snapshot();
      const dynamoBefore = dynamoCalls;
      const vault = new Vault(new KmsBranchKeys(kmsClient, KMS_KEY_ARN));
      const started = performance.now();
      const micros = await openAll(vault, sealed);
      const generateDataKey = kms.calls.GenerateDataKey - before.GenerateDataKey;
      const decrypt = kms.calls.Decrypt - before.Decrypt;
      phases.push({
        phase: `container ${container}: open ${n}`,
        ops: n,
        generateDataKey,
        decrypt,
        kms: generateDataKey + decrypt,
        dynamo: dynamoCalls - dynamoBefore,
        wallMs: performance.now() - started,
        medianUs: median(micros),
      });
      perContainer.push({ container, generateDataKey, decrypt, dynamo: dynamoCalls - dynamoBefore, medianOpenUs: median(micros) });
    }
    phases.push({
      phase: 'total',
      ops: n * (containers + 1),
      generateDataKey: kms.calls.GenerateDataKey,
      decrypt: kms.calls.Decrypt,
      kms: kms.total,
      dynamo: dynamoCalls,
      wallMs: null,
      medianUs: null,
    });
    const openKms = kms.total - sealKms;
    const perTokenEnvelope = n + containers * n;

    // 3. Stored size of one sealed token, with either keyring (the key name travels inside the message).
    const sample = typicalToken();
    const samplePlain = Buffer.byteLength(JSON.stringify(sample));
    const localKeys = new StaticWrappingKeys(randomBytes(32).toString('hex'));
    const localVault = new Vault(localKeys);
    const sizeContext = contextFor(newIntegrationId(), 0);
    const kmsSealed = await sealer.sealJson(sample, sizeContext);
    const localSealed = await localVault.sealJson(sample, sizeContext);
    const sizeRows: Row[] = [
      { keyring: 'KMS branch key', keyName: kmsSealed.keyName, plaintext: samplePlain, ciphertext: kmsSealed.ciphertext.length, overhead: kmsSealed.ciphertext.length - samplePlain },
      { keyring: 'local (StaticWrappingKeys)', keyName: localSealed.keyName, plaintext: samplePlain, ciphertext: localSealed.ciphertext.length, overhead: localSealed.ciphertext.length - samplePlain },
    ];
    const sealedLengths = sealed.map((entry) => entry.sealed.ciphertext.length);

    // 4. Seal / open per operation with the raw local keyring.
    context.log(`vault: timing ${TIMING_SAMPLES} seals and opens with the local keyring`);
    const pool = await Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const tokenContext = contextFor(newIntegrationId(), index);
        const token = typicalToken();
        return { sealed: await localVault.sealJson(token, tokenContext), context: tokenContext, token };
      }),
    );
    const sealTimes = await timeEach(TIMING_SAMPLES, TIMING_WARMUP, (index) => {
      const entry = pool[index % pool.length];
      if (!entry) throw new Error('empty pool');
      return localVault.sealJson(entry.token, entry.context);
    });
    const openTimes = await timeEach(TIMING_SAMPLES, TIMING_WARMUP, async (index) => {
      const entry = pool[index % pool.length];
      if (!entry) throw new Error('empty pool');
      const opened = await localVault.openJson(entry.sealed, entry.context, tokenSchema);
      if (opened.accessToken !== entry.token.accessToken) throw new Error('opened token does not match the sealed one');
    });
    const timingRow = (op: string, micros: number[]): Row => ({
      op,
      n: micros.length,
      median: median(micros),
      p90: percentile(micros, 90),
      p99: percentile(micros, 99),
      mean: mean(micros),
      opsPerSecond: 1e6 / mean(micros),
    });

    return {
      tables: [
        {
          title: `KMS requests with KMS branch keys (counting stub KMS, branch keys in dynalite; N=${n}, C=${containers})`,
          columns: [
            { key: 'phase', title: 'phase' },
            { key: 'ops', title: 'ops' },
            { key: 'generateDataKey', title: 'GenerateDataKey' },
            { key: 'decrypt', title: 'Decrypt' },
            { key: 'kms', title: 'KMS total' },
            { key: 'dynamo', title: 'DynamoDB reqs' },
            { key: 'wallMs', title: 'wall ms', digits: 0 },
            { key: 'medianUs', title: 'p50 µs/op', digits: 0 },
          ],
          rows: phases,
          notes: [
            `KMS calls per opening container: ${(openKms / containers).toFixed(2)} for ${n} tokens; a KMS envelope per token would need N + C×N = ${perTokenEnvelope}`,
            'µs/op include the in-memory dynalite round trips on cache misses; the stub KMS answers instantly',
          ],
        },
        {
          title: 'Stored bytes per sealed token (Encryption SDK message, committing suite, no signature)',
          columns: [
            { key: 'keyring', title: 'keyring' },
            { key: 'keyName', title: 'key name' },
            { key: 'plaintext', title: 'token JSON bytes' },
            { key: 'ciphertext', title: 'sealed bytes' },
            { key: 'overhead', title: 'overhead' },
          ],
          rows: sizeRows,
          notes: [
            `sample: {"accessToken":"xoxb-…" (${sample.accessToken.length} chars),"refreshToken":"xoxe-1-…" (${sample.refreshToken.length} chars),"expiresAt":"${sample.expiresAt}"}`,
            `the ${n} sealed tokens above: ${Math.min(...sealedLengths)}–${Math.max(...sealedLengths)} bytes (contexts differ in provider name length); the key name is stored beside the blob too`,
          ],
        },
        {
          title: `Seal / open per operation, local keyring (StaticWrappingKeys), ${TIMING_SAMPLES} samples after ${TIMING_WARMUP} warm-up`,
          columns: [
            { key: 'op', title: 'op' },
            { key: 'n', title: 'n' },
            { key: 'median', title: 'p50 µs', digits: 1 },
            { key: 'p90', title: 'p90 µs', digits: 1 },
            { key: 'p99', title: 'p99 µs', digits: 1 },
            { key: 'mean', title: 'mean µs', digits: 1 },
            { key: 'opsPerSecond', title: 'ops/s (1/mean)', digits: 0 },
          ],
          rows: [timingRow('sealJson', sealTimes), timingRow('openJson', openTimes)],
        },
      ],
      data: {
        n,
        containers,
        kms: { total: kms.total, byCommand: kms.snapshot(), perOpeningContainer: openKms / containers, perTokenEnvelopeWouldBe: perTokenEnvelope },
        dynamoRequests: dynamoCalls,
        perContainer,
        sealedBytes: { plaintext: samplePlain, kmsBranchKey: kmsSealed.ciphertext.length, local: localSealed.ciphertext.length, minOfN: Math.min(...sealedLengths), maxOfN: Math.max(...sealedLengths) },
        localKeyringMicros: {
          seal: { median: median(sealTimes), p90: percentile(sealTimes, 90), mean: mean(sealTimes) },
          open: { median: median(openTimes), p90: percentile(openTimes, 90), mean: mean(openTimes) },
        },
      },
    };
  },
};
