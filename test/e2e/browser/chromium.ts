/**
 * Chromium for the browser tests: Debian's `chromium` package (or
 * CHROMIUM_PATH), never a download. Without one, the browser tests are
 * skipped with one loud line saying how to run them, unless
 * BROWSER_TESTS=required (CI sets it), where a missing browser fails.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { describe, it } from 'vitest';

export const chromiumPath = (): string | undefined => {
  const candidate = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : undefined;
};

const HOW_TO_ENABLE = 'install Debian’s chromium (apt-get install chromium) or set CHROMIUM_PATH; BROWSER_TESTS=required makes a missing browser fail';

/**
 * `describe` when Chromium is there; otherwise a failing test (BROWSER_TESTS=required)
 * or a skipped suite announced on stderr, where the default reporter shows it.
 */
export function describeInBrowser(name: string, suite: (executablePath: string) => void): void {
  const executablePath = chromiumPath();
  if (executablePath) {
    describe(name, { timeout: 90_000 }, () => suite(executablePath));
    return;
  }
  if (process.env.BROWSER_TESTS === 'required') {
    describe(name, () => it('finds Chromium', () => {
      throw new Error(`BROWSER_TESTS=required but no Chromium at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'}: ${HOW_TO_ENABLE}`);
    }));
    return;
  }
  process.stderr.write(`\n*** BROWSER TESTS SKIPPED (${name}): no Chromium found. To run them, ${HOW_TO_ENABLE}. ***\n\n`);
  describe.skip(`${name} (SKIPPED: no Chromium; ${HOW_TO_ENABLE})`, () => suite(''));
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** One headless Chromium with a fresh profile, nothing reaching out to the network on its own. */
export async function launchChromium(executablePath: string): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'hr-integrations-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1100, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
