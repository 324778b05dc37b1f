import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { bundleAll, type Bundle } from '../lib/bundle';
import { envWithoutAppConfig, findMarked, runChild, tail } from '../lib/child';
import { max, median, min } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/**
 * Cold import of each bundle: a fresh Node process per sample that times
 * `await import()` of the .mjs from the inside (performance.now() around the
 * import, so process start-up is not counted). The bundles live inside the
 * repository's node_modules, so their external `@aws-sdk/*` and `@smithy/*`
 * imports resolve to the installed packages (standing in for the Lambda
 * runtime's). The child gets none of the application's variables: importing
 * must not need configuration.
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
  z.object({
    ok: z.literal(true),
    importMs: z.number(),
    bootMs: z.number(),
    rssBytes: z.number(),
    handler: z.string(),
  }),
  z.object({ ok: z.literal(false), importMs: z.number(), bootMs: z.number(), error: z.string() }),
]);
type ProbeResult = z.infer<typeof probeResultSchema>;

type Sample = { ok: true; importMs: number; bootMs: number; rssBytes: number; handler: string } | { ok: false; error: string };

async function probe(cwd: string, outfile: string): Promise<Sample> {
  const run = await runChild(process.execPath, ['--input-type=module', '-e', PROBE], {
    cwd,
    env: { ...envWithoutAppConfig(), BENCH_IMPORT_URL: pathToFileURL(outfile).href },
    timeoutMs: 60_000,
  });
  const result: ProbeResult | undefined = findMarked(run.stdout, MARKER, probeResultSchema);
  if (!result) {
    const why = run.timedOut ? 'timed out' : `exit ${run.code ?? run.signal}, no result line`;
    return { ok: false, error: `${why}: ${tail(run.stderr || run.stdout, 3) || '(no output)'}` };
  }
  if (!result.ok) return { ok: false, error: firstLine(result.error) };
  return result;
}

const firstLine = (text: string): string => text.split('\n')[0]?.trim() ?? text;

export const coldImportSection: Section = {
  id: 'cold-import',
  title: 'Cold import time',
  async run(context) {
    const bundles = await bundleAll(context);
    const runs = context.options.coldRuns;
    const built = bundles.filter((bundle): bundle is Extract<Bundle, { ok: true }> => bundle.ok);
    const samples = new Map<string, Sample[]>(built.map((bundle) => [bundle.spec.name, []]));
    const failures = new Map<string, string>();

    // One discarded warm-up per bundle (file cache, and it tells us early whether the import works at all).
    context.log(`cold imports: ${built.length} bundles x (1 warm-up + ${runs}) fresh processes`);
    for (const bundle of built) {
      const warm = await probe(context.workDir, bundle.outfile);
      if (!warm.ok) failures.set(bundle.spec.name, warm.error);
    }
    // Round robin, so drift on the machine spreads over all functions alike.
    for (let round = 0; round < runs; round += 1) {
      for (const bundle of built) {
        if (failures.has(bundle.spec.name)) continue;
        samples.get(bundle.spec.name)?.push(await probe(context.workDir, bundle.outfile));
      }
    }

    const rows: Row[] = [];
    const data: Json[] = [];
    for (const bundle of bundles) {
      const name = bundle.spec.name;
      if (!bundle.ok) {
        rows.push({ function: name, median: null, min: null, max: null, boot: null, rss: null, n: 0, handler: null, error: 'not bundled' });
        data.push({ function: name, error: 'not bundled' });
        continue;
      }
      const failure = failures.get(name);
      const all = samples.get(name) ?? [];
      const good = all.flatMap((sample) => (sample.ok ? [sample] : []));
      const errors = all.flatMap((sample) => (sample.ok ? [] : [sample.error]));
      const error = failure ?? errors[0] ?? null;
      const importMs = good.map((sample) => sample.importMs);
      rows.push({
        function: name,
        median: median(importMs),
        min: min(importMs),
        max: max(importMs),
        boot: median(good.map((sample) => sample.bootMs)),
        rss: median(good.map((sample) => sample.rssBytes / (1024 * 1024))),
        n: good.length,
        handler: good[0] ? good[0].handler === 'function' : null,
        error: error === null ? null : errors.length > 0 && !failure ? `${errors.length} failed: ${error}` : error,
      });
      data.push({
        function: name,
        samplesMs: importMs,
        medianMs: good.length > 0 ? median(importMs) : null,
        bootMs: good.map((sample) => sample.bootMs),
        rssBytes: good.map((sample) => sample.rssBytes),
        error,
      });
    }
    return {
      tables: [
        {
          title: `Cold import of each bundle (fresh node ${process.version} process per sample, ${runs} samples after 1 warm-up)`,
          columns: [
            { key: 'function', title: 'function' },
            { key: 'median', title: 'import ms p50', digits: 1 },
            { key: 'min', title: 'min', digits: 1 },
            { key: 'max', title: 'max', digits: 1 },
            { key: 'boot', title: 'node boot ms', digits: 1 },
            { key: 'rss', title: 'RSS MiB', digits: 1 },
            { key: 'n', title: 'n' },
            { key: 'handler', title: 'handler()' },
            { key: 'error', title: 'error' },
          ],
          rows,
          notes: [
            'import ms is measured inside the child around `await import(bundle)`; node boot ms is the time from process start to the probe',
            'externals resolve to this repository\'s node_modules, not the Lambda runtime\'s copies; no app env vars are set',
          ],
        },
      ],
      data,
    };
  },
};
