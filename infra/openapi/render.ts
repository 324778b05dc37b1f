/** The OpenAPI document as committed: generated from the code, as stable, diff-friendly JSON. */
import packageJson from '../../package.json' with { type: 'json' };
import { openApiDocument } from './document';
import { loadHttpRoutes } from './routes';

export async function renderOpenApiDocument(): Promise<string> {
  return `${JSON.stringify(openApiDocument(await loadHttpRoutes(), packageJson.version), null, 2)}\n`;
}
