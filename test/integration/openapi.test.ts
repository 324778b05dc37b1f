import { Validator } from '@seriousme/openapi-schema-validator';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordIssuedSecret } from '../../infra/local/sandbox/secrets-ledger';
import { loadHttpRoutes, type HttpRoute } from '../../infra/openapi/routes';
import { renderOpenApiDocument } from '../../infra/openapi/render';
import { handler as getIntegrationHandler } from '../../functions/api/get-integration';
import { handler as openApiHandler } from '../../functions/api/openapi';
import type { EventType } from '../../shared/events/catalog';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { deliverEvent } from '../../shared/outgoing/delivery';
import { registerEndpoint } from '../../shared/outgoing/endpoints';
import { outgoingEventTypes, type OutgoingEventType } from '../../shared/outgoing/store';
import { apiEvent, call, uniqueOrg } from '../support/api';
import { checkAnswersOf, contractViolation, deliveryViolation, handlerAnswerViolation, type Answer, type Delivery } from '../support/contract';
import { startHttpReceiver, type HttpReceiver } from '../support/http-receiver';

/**
 * The OpenAPI document: committed, current, valid, complete, served; the
 * contract checks refuse an answer that drifts, whether an e2e test fetched it
 * or an integration test called its handler; and what the outgoing webhooks
 * really deliver is what its `webhooks` say.
 */
process.env.OUTGOING_WEBHOOKS_NETWORK = 'loopback-only';
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

describe('the contract check on handler answers (what call() runs)', () => {
  const id = 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F';
  const envelope = (statusCode: number, code: string) => ({
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ success: false, error: { code, message: 'x' } }),
  });
  const named = apiEvent({ path: `/api/integrations/${id}`, routeKey: 'GET /api/integrations/{id}', pathParameters: { id } });

  it("checks a manifest handler's answer against the route that exports it, whatever path the event names", async () => {
    expect(await handlerAnswerViolation(getIntegrationHandler, named, envelope(404, 'not_found'))).toBeUndefined();
    expect(await handlerAnswerViolation(getIntegrationHandler, named, envelope(409, 'conflict'))).toMatch(/status 409 is not declared for GET \/api\/integrations\/\{id\}/);
    expect(await handlerAnswerViolation(getIntegrationHandler, named, envelope(404, 'gone'))).toMatch(/allowed values/);
    // call()'s default event names GET /api/integrations: the handler is still held to its own route.
    expect(await handlerAnswerViolation(getIntegrationHandler, apiEvent({ pathParameters: { id } }), envelope(409, 'conflict'))).toMatch(/GET \/api\/integrations\/\{id\}/);
  });

  it("leaves a test's own handler alone: no route of the document serves it", async () => {
    const own = apiHandler({ permission: 'public', handle: async () => success(null) });
    expect(await handlerAnswerViolation(own, named, envelope(418, 'teapot'))).toBeUndefined();
  });
});

describe('outgoing webhooks, as delivered, are what the document says', () => {
  let receiver: HttpReceiver;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    receiver = await startHttpReceiver((_request, response) => response.writeHead(204).end());
    const orgId = uniqueOrg('openapi-webhooks');
    const registered = await registerEndpoint(orgId, { url: `${receiver.url}/all`, eventTypes: [...outgoingEventTypes] });
    recordIssuedSecret(registered.secret);
    const now = new Date().toISOString();
    const integration = { integrationId: 'int_01J00000000000000000000000', providerId: 'slack' };
    // Each bus event with every field its publisher sets (completion, lifecycle, health, alerts, the sync engine).
    const published: Record<OutgoingEventType, [EventType, Record<string, unknown>]> = {
      connected: ['integration.connected', { ...integration, externalAccountId: 'T0001', scopes: ['chat:write'], reconnected: false, connectedBy: 'user-1' }],
      disconnected: ['integration.disconnected', { ...integration, reason: 'user_disconnected', disconnectedBy: 'user-1' }],
      health_changed: ['integration.health_changed', { ...integration, from: 'healthy', to: 'degraded', reason: 'sync_failed:rate_limited', changedAt: now }],
      alert: ['integration.alert', { ...integration, kind: 'sync_failing', reason: 'sync_failing', message: 'Syncs keep failing', raisedAt: now }],
      synced: ['integration.synced', { ...integration, syncId: 'sync_1', trigger: 'manual', counts: { users: { created: 1, updated: 0, deleted: 0 } } }],
    };
    for (const [detailType, detail] of Object.values(published)) {
      await deliverEvent({ id: randomUUID(), 'detail-type': detailType, source: 'hr.integrations', time: now, detail: { orgId, ...detail } });
    }
    deliveries.push(...receiver.received);
  });

  afterAll(() => receiver?.close());

  const documented = async () => JSON.parse(await readFile(committedPath, 'utf8')) as { webhooks: Record<string, { post: { requestBody: { content: { 'application/json': { schema: { properties: { data: { properties: object } } } } } } } }> };

  it('every event type an endpoint can subscribe to is documented, and a real delivery of each keeps its entry (headers and body)', async () => {
    expect(Object.keys((await documented()).webhooks).sort()).toEqual([...outgoingEventTypes].sort());
    expect(deliveries.map((delivery) => (JSON.parse(delivery.body) as { type: string }).type).sort()).toEqual([...outgoingEventTypes].sort());
    for (const delivery of deliveries) expect(deliveryViolation(delivery), delivery.body).toBeUndefined();
  });

  it('the deliveries carry every documented field, so the schema is checked against full bodies', async () => {
    const { webhooks } = await documented();
    for (const delivery of deliveries) {
      const { type, data } = JSON.parse(delivery.body) as { type: string; data: object };
      expect(Object.keys(data).sort(), type).toEqual(Object.keys(webhooks[type]?.post.requestBody.content['application/json'].schema.properties.data.properties ?? {}).sort());
    }
  });

  it('refuses a delivery that drifts: a field the document does not name, a missing or malformed signature header, an undocumented type', () => {
    const delivery = deliveries[0] as Delivery;
    const body = JSON.parse(delivery.body) as { type: string; data: Record<string, unknown> };
    const drifted = (change: Partial<Delivery>): Delivery => ({ ...delivery, ...change });
    expect(deliveryViolation(drifted({ body: JSON.stringify({ ...body, data: { ...body.data, newField: 1 } }) }))).toMatch(/additional properties/);
    expect(deliveryViolation(drifted({ body: JSON.stringify({ ...body, version: 2 }) }))).toMatch(/additional properties/);
    const { 'webhook-signature': _signature, ...unsigned } = delivery.headers;
    expect(deliveryViolation(drifted({ headers: unsigned }))).toMatch(/webhook-signature header is missing/);
    expect(deliveryViolation(drifted({ headers: { ...delivery.headers, 'webhook-signature': 'v2,abc' } }))).toMatch(/webhook-signature header .*pattern/);
    expect(deliveryViolation(drifted({ body: JSON.stringify({ ...body, type: 'renamed' }) }))).toMatch(/no webhook is documented for type renamed/);
  });
});
