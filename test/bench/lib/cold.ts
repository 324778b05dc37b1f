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
 * Samples are kept per bundle file for the whole run, so sections that import
 * the same bundle share them (bundle-choice and cold-import both show the
 * deployed bundles).
 */
const MARKER = 'BENCH_IMPORT';

const PROBE = `
const url = process.env.BENCH_IMPORT_URL;
const bootMs = performance.now();
let result;
const started = performance.now();
try {
  const mod = await import(url);
  const importMs = performance.now() - started;
  result = { ok: true, importMs, bootMs, rssBytes: process.memoryUsage().rss, handler: typeof mod.handler };
} catch (error) {
  const importMs = performance.now() - started;
  const message = error && typeof error === 'object' && 'stack' in error ? String(error.stack) : String(error);
  result = { ok: false, importMs, bootMs, error: message.slice(0, 2000) };
}
process.stdout.write('\\n${MARKER} ' + JSON.stringify(result) + '\\n');
process.exit(0);
`;

const probeResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), importMs: z.number(), bootMs: z.number(), rssBytes: z.number(), handler: z.string() }),
  z.object({ ok: z.literal(false), importMs: z.number(), bootMs: z.number(), error: z.string() }),
]);

export type Sample = { ok: true; importMs: number; bootMs: number; rssBytes: number; handler: string } | { ok: false; error: string };

const firstLine = (text: string): string => text.split('\n')[0]?.trim() ?? text;

async function probe(cwd: string, outfile: string): Promise<Sample> {
  const run = await runChild(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd,
    env: { ...envWithoutAppConfig(), BENCH_IMPORT_URL: pathToFileURL(outfile).href },
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
 * Cold-imports each bundle file `context.options.coldRuns` times after one
 * discarded warm-up (file cache; it also tells early whether the import works
 * at all), round robin over the files not sampled yet, so drift on the machine
 * spreads over all of them alike.
 */
export async function coldImports(context: BenchContext, outfiles: readonly string[]): Promise<Map<string, ColdImports>> {
  const cache = await context.memo('cold-import-samples', async () => new Map<string, ColdImports>());
  const fresh = [...new Set(outfiles)].filter((outfile) => !cache.has(outfile));
  if (fresh.length > 0) {
    const runs = context.options.coldRuns;
    context.log(`cold imports: ${fresh.length} bundles x (1 warm-up + ${runs}) fresh processes`);
    for (const outfile of fresh) {
      const warm = await probe(context.workDir, outfile);
      cache.set(outfile, { samples: [], failure: warm.ok ? undefined : warm.error });
    }
    for (let round = 0; round < runs; round += 1) {
      for (const outfile of fresh) {
        const entry = cache.get(outfile);
        if (entry && entry.failure === undefined) entry.samples.push(await probe(context.workDir, outfile));
      }
    }
  }
  return new Map(outfiles.map((outfile) => [outfile, cache.get(outfile) ?? { samples: [], failure: 'not sampled' }]));
}

/** The import times of the samples that worked. */
export const importTimes = (cold: ColdImports | undefined): number[] =>
  (cold?.samples ?? []).flatMap((sample) => (sample.ok ? [sample.importMs] : []));
