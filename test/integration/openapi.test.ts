import { Validator } from '@seriousme/openapi-schema-validator';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHttpRoutes, type HttpRoute } from '../../infra/openapi/document';
import { renderOpenApiDocument } from '../../infra/openapi/render';
import { handler as openApiHandler } from '../../functions/api/openapi';
import { call } from '../support/api';
import { checkAnswersOf, contractViolation, type Answer } from '../support/contract';

/**
 * The OpenAPI document: committed, current, valid, complete, served; and the
 * contract check the e2e tests run on every answer refuses one that drifts.
 */
const committedPath = join(import.meta.dirname, '..', '..', 'infra', 'openapi', 'openapi.json');
let routes: HttpRoute[];

beforeAll(async () => {
  routes = await loadHttpRoutes();
});

describe('the OpenAPI document', () => {
  it('the committed copy is what the code generates (run `npm run openapi` and commit it)', async () => {
    expect(await readFile(committedPath, 'utf8')).toBe(await renderOpenApiDocument());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(await readFile(committedPath, 'utf8')) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('every http route of the manifest declares its success answers', () => {
    const undeclared = routes.filter((http) => Object.keys(http.route?.responses ?? {}).length === 0).map((http) => `${http.spec.name} (${http.spec.entry})`);
    expect(undeclared).toEqual([]);
  });

  it('is served publicly at GET /api/openapi.json, as committed, with a cache header', async () => {
    const answer = await call(openApiHandler, { path: '/api/openapi.json', claims: null });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['cache-control']).toBe('public, max-age=300');
    expect(answer.json).toEqual(JSON.parse(await readFile(committedPath, 'utf8')));
  });
});

describe('the contract check on answers', () => {
  const view = {
    id: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F',
    providerId: 'slack',
    providerName: 'Slack',
    status: 'active',
    healthStatus: 'healthy',
    healthReason: 'connected',
    healthChangedAt: '2026-12-01T10:00:00.000Z',
    externalAccount: { id: 'T1' },
    scopes: ['chat:write'],
    connectedAt: '2026-12-01T10:00:00.000Z',
    lastSyncAt: null,
    disconnectedAt: null,
  };
  const answer = (status: number, body: unknown, path = `/api/integrations/${view.id}`, method = 'GET'): Answer => ({
    method,
    path,
    status,
    headers: new Headers({ 'content-type': 'application/json; charset=utf-8' }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

  it('passes an answer that keeps the contract', () => {
    expect(contractViolation(answer(200, { success: true, data: view }))).toBeUndefined();
    expect(contractViolation(answer(404, { success: false, error: { code: 'not_found', message: 'Integration not found' } }))).toBeUndefined();
  });

  it('refuses a body that drifts, a status the route does not declare, an error outside the envelope, and an unknown route', () => {
    const { providerName: _dropped, ...withoutName } = view;
    expect(contractViolation(answer(200, { success: true, data: withoutName }))).toMatch(/providerName/);
    expect(contractViolation(answer(200, { success: true, data: { ...view, token: 'x' } }))).toMatch(/additional/);
    expect(contractViolation(answer(200, { success: true, data: { ...view, connectedAt: 'yesterday' } }))).toMatch(/connectedAt must match/);
    expect(contractViolation(answer(202, { success: true, data: view }))).toMatch(/status 202 is not declared/);
    expect(contractViolation(answer(404, { success: false, error: { code: 'gone', message: 'x' } }))).toMatch(/allowed values/);
    expect(contractViolation(answer(500, { message: 'Internal Server Error' }))).toMatch(/must have required property/);
    expect(contractViolation(answer(200, { success: true, data: [] }, `/api/integrations/${view.id}/nothing`))).toMatch(/no route/);
  });

  it('a redirect must carry its Location and no body', () => {
    const redirect = (headers: Record<string, string>): Answer => ({ method: 'GET', path: '/api/integrations/callback/slack', status: 302, headers: new Headers(headers), body: '' });
    expect(contractViolation(redirect({ location: 'https://app.test/settings/integrations?pending=x' }))).toBeUndefined();
    expect(contractViolation(redirect({}))).toMatch(/Location/);
  });
});

describe('the contract check on fetch', () => {
  let origin: Server;
  let baseUrl = '';

  beforeAll(async () => {
    // A stand-in API on loopback whose answer drifts: an integration without its fields.
    origin = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ success: true, data: { id: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F' } }));
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    checkAnswersOf(baseUrl);
  });

  afterAll(() => new Promise<void>((resolve) => origin.close(() => resolve())));

  it('rejects the fetch that received a drifting answer, and leaves other paths alone', async () => {
    await expect(fetch(`${baseUrl}/api/integrations/int_01JD3X8Q9W7T5V4N2M1K0H8G6F`)).rejects.toThrow(/Contract violation: GET \/api\/integrations\/int_01JD3X8Q9W7T5V4N2M1K0H8G6F → 200: body\/data must have required property/);
    expect((await fetch(`${baseUrl}/_local/health`)).status).toBe(200);
  });
});
