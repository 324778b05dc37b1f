/**
 * Builds the settings component into one self-contained ES module (Lit and
 * the CSS inside, nothing fetched at run time) with esbuild: the file an HR
 * app serves and imports. `npm run build:ui` writes it to `dist/ui/`; the
 * local runtime builds it at start and serves it under
 * `/settings/integrations/`.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const SETTINGS_MODULE_FILE = 'hr-integrations.js';

export interface SettingsModule {
  code: string;
  bytes: number;
  gzipBytes: number;
}

export async function buildSettingsModule(root: string, outDir?: string): Promise<SettingsModule> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'shared/ui/hr-integrations.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'eof',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    // Written whole then renamed: a reader (or a second runtime building at once) never sees half a file.
    const temporary = join(outDir, `.${SETTINGS_MODULE_FILE}.${process.pid}.tmp`);
    writeFileSync(temporary, code);
    renameSync(temporary, join(outDir, SETTINGS_MODULE_FILE));
  }
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code).length };
}
