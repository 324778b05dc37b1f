/** `npm run build:ui`: writes dist/ui/hr-integrations.js and prints its size. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSettingsModule, SETTINGS_MODULE_FILE } from './build';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const built = await buildSettingsModule(root, resolve(root, 'dist/ui'));
process.stdout.write(`dist/ui/${SETTINGS_MODULE_FILE}: ${(built.bytes / 1024).toFixed(1)} KiB, ${(built.gzipBytes / 1024).toFixed(1)} KiB gzip\n`);
