/**
 * The settings component: the module's size (raw and gzip), and the time
 * from navigating to `/settings/integrations` to the list rendered (the
 * module fetched and run, the catalog and the list read from the API), in
 * Chromium through the local runtime with three connected integrations.
 * The first load is a fresh browser's; the module is revalidated every time (no-cache).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintLocalToken } from '../../../infra/local/jwt';
import { buildSettingsModule } from '../../../shared/ui/build';
import { chromiumPath, launchChromium } from '../../e2e/browser/chromium';
import { startLocalProcess } from '../../support/local-process';
import { runtimeClient } from '../../support/runtime-client';
import { max, median, min } from '../lib/stats';
import type { Row, Section, SectionOutput } from '../lib/types';

const LOADS = 6;

export const settingsPageSection: Section = {
  id: 'settings-page',
  title: 'Settings page component',
  async run(context): Promise<SectionOutput> {
    const module = await buildSettingsModule(context.root);
    const sizeRows: Row[] = [{ file: 'dist/ui/hr-integrations.js', KiB: module.bytes / 1024, 'gzip KiB': module.gzipBytes / 1024 }];
    const sizes = { title: 'Component module (one ES module, Lit and CSS inside)', columns: [{ key: 'file', title: 'file' }, { key: 'KiB', title: 'KiB' }, { key: 'gzip KiB', title: 'gzip KiB' }], rows: sizeRows };

    const executablePath = chromiumPath();
    if (!executablePath) return { tables: [{ ...sizes, notes: ['Load time not measured: no Chromium (set CHROMIUM_PATH).'] }], data: { bytes: module.bytes, gzipBytes: module.gzipBytes } };

    const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-bench-ui-'));
    const server = await startLocalProcess({ DATA_DIR: dataDir });
    const browser = await launchChromium(executablePath);
    context.onCleanup(async () => {
      await browser.close();
      await server.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    });
    const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
    const token = await mintLocalToken(jwtSecret, { orgId: 'bench-ui', role: 'admin', sub: 'bench', ttlSeconds: 3600 });
    const client = runtimeClient(server.url);
    for (const providerId of ['slack', 'google', 'microsoft']) await client.connect(providerId, token);

    const page = await browser.context.newPage();
    await page.goto(`${server.url}/settings/integrations`);
    await page.evaluate((value) => localStorage.setItem('hr-integrations.local-token', value), token);
    const samples: number[] = [];
    for (let load = 0; load < LOADS; load += 1) {
      await page.goto(`${server.url}/settings/integrations`, { waitUntil: 'commit' });
      await page.waitForFunction(() => (document.querySelector('hr-integrations')?.shadowRoot?.querySelectorAll('tr[data-provider]').length ?? 0) >= 3, undefined, { polling: 'raf' });
      samples.push(await page.evaluate(() => performance.now()));
    }
    context.log(`settings page: ${samples.map((sample) => sample.toFixed(0)).join(', ')} ms`);
    return {
      tables: [
        sizes,
        {
          title: `Load to first list render (ms, ${LOADS} loads, 3 integrations, Chromium headless)`,
          columns: [{ key: 'load', title: 'load' }, { key: 'ms', title: 'ms' }],
          rows: [
            { load: 'first (fresh browser)', ms: samples[0] ?? 0 },
            { load: 'median', ms: median(samples) },
            { load: 'min', ms: min(samples) },
            { load: 'max', ms: max(samples) },
          ],
          notes: ['From navigation start to the rows in the shadow DOM: HTML, module, catalog and list calls, first render.'],
        },
      ],
      data: { bytes: module.bytes, gzipBytes: module.gzipBytes, loadToListMs: samples },
    };
  },
};
