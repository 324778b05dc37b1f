import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalProcess, type LocalProcess } from '../support/local-process';

/** The contract over the local runtime: the document is public, as committed, and cacheable. */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-openapi-'));
let server: LocalProcess;

beforeAll(async () => {
  server = await startLocalProcess({ DATA_DIR: dataDir });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

it('serves the committed OpenAPI document at GET /api/openapi.json without a token, with a cache header', async () => {
  const response = await fetch(`${server.url}/api/openapi.json`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('cache-control')).toBe('public, max-age=300');
  const committed: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'infra', 'openapi', 'openapi.json'), 'utf8'));
  expect(await response.json()).toEqual(committed);
});
