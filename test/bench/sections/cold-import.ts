import { bundleAll, type Bundle } from '../lib/bundle';
import { coldImports } from '../lib/cold';
import { max, median, min } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/**
 * Cold import of each bundle as deployed (lib/cold.ts: a fresh Node process
 * per sample, timed from the inside). The bundle-choice section compares these
 * with the previous bundling; its samples are shared with this one.
 */
export const coldImportSection: Section = {
  id: 'cold-import',
  title: 'Cold import time',
  async run(context) {
    const bundles = await bundleAll(context);
    const runs = context.options.coldRuns;
    const built = bundles.filter((bundle): bundle is Extract<Bundle, { ok: true }> => bundle.ok);
    const cold = await coldImports(context, built.map((bundle) => bundle.outfile));

    const rows: Row[] = [];
    const data: Json[] = [];
    for (const bundle of bundles) {
      const name = bundle.spec.name;
      if (!bundle.ok) {
        rows.push({ function: name, median: null, min: null, max: null, boot: null, rss: null, n: 0, handler: null, error: 'not bundled' });
        data.push({ function: name, error: 'not bundled' });
        continue;
      }
      const { samples, failure } = cold.get(bundle.outfile) ?? { samples: [], failure: 'not sampled' };
      const good = samples.flatMap((sample) => (sample.ok ? [sample] : []));
      const errors = samples.flatMap((sample) => (sample.ok ? [] : [sample.error]));
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
          title: `Cold import of each bundle as deployed (fresh node ${process.version} process per sample, ${runs} samples after 1 warm-up)`,
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
