import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { envWithoutAppConfig, findMarked, runChild, tail } from './child';
import type { BenchContext } from './types';

/**
 * Cold import of a bundle: a fresh Node process per sample that times
 * `await import()` of the .mjs from the inside (performance.now() around the
 * import, so process start-up is not counted). The bundles live inside the
 * repository's node_modules, so their externals resolve to the installed
 * packages (standing in for the Lambda runtime's). The child gets none of the
 * application's variables: importing must not need configuration.
 *
 * A cold start also pays for what the first invocation does before it looks
 * at its input: every handler reads the provider credentials secret first
 * when the function has one (shared/oauth/provider-secrets.ts, through a
 * dynamic import of the Secrets Manager client). With `firstInvocation` the
 * child then invokes the handler once with an empty request, the secret
 * served by a stub on loopback when the function reads it (as the stack hands
 * it over), and times the call: the secret's read and whatever the handler
 * does before refusing the empty input.
 *
 * Samples are kept per bundle file and kind for the whole run, so sections
 * that import the same bundle share them (bundle-choice and cold-import both
 * show the deployed bundles).
 */
const MARKER = 'BENCH_IMPORT';

const PROBE = `
const url = process.env.BENCH_IMPORT_URL;
const bootMs = performance.now();

async function firstInvocation(handler) {
  const { createServer } = await import('node:http');
  const secret = JSON.stringify({ ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench', Name: 'bench', SecretString: '{}' });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(secret));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:' + server.address().port,
  });
  if (process.env.BENCH_READS_SECRET) process.env.PROVIDER_CREDENTIALS_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench';
  const event = { version: '2.0', routeKey: '$default', rawPath: '/', rawQueryString: '', headers: {}, requestContext: { http: { method: 'POST', path: '/' } }, body: '', isBase64Encoded: false };
  const context = { functionName: 'bench', awsRequestId: 'bench', memoryLimitInMB: '512', getRemainingTimeInMillis: () => 10000 };
  const started = performance.now();
  try { await handler(event, context); } catch {}
  const firstMs = performance.now() - started;
  server.close();
  return firstMs;
}

let result;
const started = performance.now();
try {
  const mod = await import(url);
  const importMs = performance.now() - started;
  const rssBytes = process.memoryUsage().rss;
  const firstMs = process.env.BENCH_FIRST_INVOCATION && typeof mod.handler === 'function' ? await firstInvocation(mod.handler) : undefined;
  result = { ok: true, importMs, bootMs, rssBytes, handler: typeof mod.handler, ...(firstMs === undefined ? {} : { firstMs }) };
} catch (error) {
  const importMs = performance.now() - started;
  const message = error && typeof error === 'object' && 'stack' in error ? String(error.stack) : String(error);
  result = { ok: false, importMs, bootMs, error: message.slice(0, 2000) };
}
process.stdout.write('\\n${MARKER} ' + JSON.stringify(result) + '\\n');
process.exit(0);
`;

const probeResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), importMs: z.number(), bootMs: z.number(), rssBytes: z.number(), handler: z.string(), firstMs: z.number().optional() }),
  z.object({ ok: z.literal(false), importMs: z.number(), bootMs: z.number(), error: z.string() }),
]);

export type Sample = { ok: true; importMs: number; bootMs: number; rssBytes: number; handler: string; firstMs?: number } | { ok: false; error: string };

const firstLine = (text: string): string => text.split('\n')[0]?.trim() ?? text;

/** What to sample: a bundle's import, or its import and first invocation. */
export interface ColdJob {
  outfile: string;
  /** Also invoke the handler once; `readsSecret`: the function reads the provider credentials secret (manifest `providerCredentials`). */
  firstInvocation?: { readsSecret: boolean };
}

/** The key a job's samples are kept and returned under. */
export const coldJobKey = (job: ColdJob): string => (job.firstInvocation ? `${job.outfile} +first-invocation` : job.outfile);

async function probe(cwd: string, job: ColdJob): Promise<Sample> {
  const first = job.firstInvocation ? { BENCH_FIRST_INVOCATION: '1', ...(job.firstInvocation.readsSecret ? { BENCH_READS_SECRET: '1' } : {}) } : {};
  const run = await runChild(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd,
    env: { ...envWithoutAppConfig(), BENCH_IMPORT_URL: pathToFileURL(job.outfile).href, ...first },
    timeoutMs: 60_000,
  });
  const result = findMarked(run.stdout, MARKER, probeResultSchema);
  if (!result) {
    const why = run.timedOut ? 'timed out' : `exit ${run.code ?? run.signal}, no result line`;
    return { ok: false, error: `${why}: ${tail(run.stderr || run.stdout, 3) || '(no output)'}` };
  }
  if (!result.ok) return { ok: false, error: firstLine(result.error) };
  return result;
}

export interface ColdImports {
  /** Every sample of a bundle, failed ones included (empty when its warm-up failed). */
  samples: Sample[];
  /** Why the warm-up import failed, if it did (then no samples were taken). */
  failure: string | undefined;
}

/**
 * Samples each job `context.options.coldRuns` times after one discarded
 * warm-up (file cache; it also tells early whether the import works at all),
 * round robin over the jobs not sampled yet, so drift on the machine spreads
 * over all of them alike. Returned by `coldJobKey`.
 */
export async function coldStarts(context: BenchContext, jobs: readonly ColdJob[]): Promise<Map<string, ColdImports>> {
  const cache = await context.memo('cold-import-samples', async () => new Map<string, ColdImports>());
  const fresh = [...new Map(jobs.map((job) => [coldJobKey(job), job])).values()].filter((job) => !cache.has(coldJobKey(job)));
  if (fresh.length > 0) {
    const runs = context.options.coldRuns;
    context.log(`cold imports: ${fresh.length} bundles x (1 warm-up + ${runs}) fresh processes`);
    for (const job of fresh) {
      const warm = await probe(context.workDir, job);
      cache.set(coldJobKey(job), { samples: [], failure: warm.ok ? undefined : warm.error });
    }
    for (let round = 0; round < runs; round += 1) {
      for (const job of fresh) {
        const entry = cache.get(coldJobKey(job));
        if (entry && entry.failure === undefined) entry.samples.push(await probe(context.workDir, job));
      }
    }
  }
  return new Map(jobs.map((job) => [coldJobKey(job), cache.get(coldJobKey(job)) ?? { samples: [], failure: 'not sampled' }]));
}

/** Cold imports of bundle files, by file. */
export const coldImports = (context: BenchContext, outfiles: readonly string[]): Promise<Map<string, ColdImports>> =>
  coldStarts(context, outfiles.map((outfile) => ({ outfile })));

/** The import times of the samples that worked. */
export const importTimes = (cold: ColdImports | undefined): number[] =>
  (cold?.samples ?? []).flatMap((sample) => (sample.ok ? [sample.importMs] : []));

/** Import plus first invocation, of the samples that have both. */
export const coldStartTimes = (cold: ColdImports | undefined): number[] =>
  (cold?.samples ?? []).flatMap((sample) => (sample.ok && sample.firstMs !== undefined ? [sample.importMs + sample.firstMs] : []));

/** The first invocations alone. */
export const firstInvocationTimes = (cold: ColdImports | undefined): number[] =>
  (cold?.samples ?? []).flatMap((sample) => (sample.ok && sample.firstMs !== undefined ? [sample.firstMs] : []));
