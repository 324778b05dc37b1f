/**
 * `npm run openapi`: regenerates the committed OpenAPI document from the
 * manifest and the handlers' declarations. Commit the result; a test fails
 * while the committed copy differs from what the code would generate.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderOpenApiDocument } from './render';

const target = join(import.meta.dirname, 'openapi.json');
await writeFile(target, await renderOpenApiDocument());
console.log(`Wrote ${target}`);
