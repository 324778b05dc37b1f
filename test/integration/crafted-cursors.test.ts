import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { handler as exportIntegrationHandler } from '../../functions/api/export-integration';
import { handler as exportOrgHandler } from '../../functions/api/export-org';
import { handler as listConsentsHandler } from '../../functions/api/list-consents';
import { handler as listIntegrationsHandler } from '../../functions/api/list-integrations';
import { handler as listRecordsHandler } from '../../functions/api/list-records';
import { handler as listSyncLogsHandler } from '../../functions/api/list-sync-logs';
import { logger } from '../../shared/logging/logger';
import { dynamo, tableName } from '../../shared/store/client';
import { recordConsent } from '../../shared/store/consents';
import { createIntegration } from '../../shared/store/integrations';
import { keys } from '../../shared/store/keys';
import { writeRecords } from '../../shared/store/record-writes';
import { writeSyncLog } from '../../shared/store/sync';
import { call, claimsFor, integrationRecord, uniqueOrg, type ParsedResponse } from '../support/api';

/**
 * Issue 9, §6: a cursor the server did not issue for this caller and this
 * query (garbage, JSON of the wrong shape, a real one altered, a real one of
 * another organisation, integration, resource or route, an oversized one) is a
 * 400 bad_request on every paginated route, changes nothing and logs no ERROR;
 * a real cursor still pages to the end.
 */
type RouteName = 'integrations' | 'records' | 'sync-logs' | 'consents' | 'export-org' | 'export-integration';
type Org = 'a' | 'b';
type Integration = 'x' | 'y';

interface Request {
  route: RouteName;
  org: Org;
  integration: Integration;
  resource: string;
  cursor?: string;
}

const routes: RouteName[] = ['integrations', 'records', 'sync-logs', 'consents', 'export-org', 'export-integration'];
const perIntegration = (route: RouteName) => route !== 'integrations' && route !== 'export-org';

const orgs: Record<Org, string> = { a: uniqueOrg('cursor-a'), b: uniqueOrg('cursor-b') };
const integrations: Record<Org, Record<Integration, string>> = {
  a: { x: integrationRecord(orgs.a).id, y: integrationRecord(orgs.a).id },
  b: { x: integrationRecord(orgs.b).id, y: integrationRecord(orgs.b).id },
};

/** The first page's cursor of each route, for org a, integration x, resource users. */
const realCursors = {} as Record<RouteName, string>;
/** A deeper export cursor: one that carries a key as well as a section. */
let exportIntegrationKeyCursor = '';

async function send(request: Request): Promise<ParsedResponse> {
  const orgId = orgs[request.org];
  const id = integrations[request.org][request.integration];
  const cursor = request.cursor === undefined ? [] : [`cursor=${encodeURIComponent(request.cursor)}`];
  const claims = claimsFor(orgId, 'admin');
  const route = (path: string, routeKey: string, query: string[]) => ({
    path,
    routeKey: `GET ${routeKey}`,
    query: query.join('&'),
    ...(routeKey.includes('{id}') ? { pathParameters: { id } } : {}),
    claims,
  });
  switch (request.route) {
    case 'integrations':
      return call(listIntegrationsHandler, route('/api/integrations', '/api/integrations', ['limit=1', ...cursor]));
    case 'records':
      return call(listRecordsHandler, route(`/api/integrations/${id}/records`, '/api/integrations/{id}/records', [`resource=${request.resource}`, 'limit=1', ...cursor]));
    case 'sync-logs':
      return call(listSyncLogsHandler, route(`/api/integrations/${id}/sync-logs`, '/api/integrations/{id}/sync-logs', ['limit=1', ...cursor]));
    case 'consents':
      return call(listConsentsHandler, route(`/api/integrations/${id}/consents`, '/api/integrations/{id}/consents', cursor));
    case 'export-org':
      return call(exportOrgHandler, route('/api/integrations/export', '/api/integrations/export', cursor));
    case 'export-integration':
      return call(exportIntegrationHandler, route(`/api/integrations/${id}/export`, '/api/integrations/{id}/export', cursor));
  }
}

const nextCursorOf = (response: ParsedResponse): string | undefined => {
  const header = response.headers['x-next-cursor'];
  if (header !== undefined) return String(header);
  const data = response.json.data as { nextCursor?: string | null } | undefined;
  return data?.nextCursor ?? undefined;
};

/** Each page's items as comparable strings (ids, external ids, sync ids, grant times, exported keys). */
function pageItems(route: RouteName, response: ParsedResponse): string[] {
  const data = response.json.data as Record<string, unknown> & Array<{ id: string }>;
  switch (route) {
    case 'integrations':
      return data.map((item) => item.id);
    case 'records':
      return (data.records as Array<{ externalId: string }>).map((item) => item.externalId);
    case 'sync-logs':
      return (data.logs as Array<{ syncId: string }>).map((item) => item.syncId);
    case 'consents':
      return (data.consents as Array<{ grantedAt: string }>).map((item) => item.grantedAt);
    case 'export-org':
    case 'export-integration':
      return (data.items as Array<{ type: string; integrationId?: string; data: Record<string, unknown> }>).map(
        (item) => `${item.type}:${item.integrationId ?? ''}:${String(item.data.id ?? item.data.externalId ?? item.data.syncId ?? item.data.grantedAt)}`,
      );
  }
}

async function walk(route: RouteName): Promise<{ items: string[]; pages: number }> {
  const items: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await send({ route, org: 'a', integration: 'x', resource: 'users', ...(cursor === undefined ? {} : { cursor }) });
    expect(response.statusCode, response.raw).toBe(200);
    items.push(...pageItems(route, response));
    cursor = nextCursorOf(response);
    pages += 1;
  } while (cursor !== undefined && pages < 100);
  return { items, pages };
}

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The same string with one character changed (to another base64url character). */
function alterAt(cursor: string, index: number): string {
  const at = (index + cursor.length) % cursor.length;
  const replacement = cursor[at] === 'A' ? 'B' : 'A';
  return `${cursor.slice(0, at)}${replacement}${cursor.slice(at + 1)}`;
}

/** A real cursor whose decoded bytes are changed: a byte flipped in the middle. */
function flipByte(cursor: string): string {
  const bytes = Buffer.from(cursor, 'base64url');
  const middle = Math.floor(bytes.length / 2);
  bytes[middle] = (bytes[middle] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

/** A real cursor's JSON (if it is base64url JSON) with a value replaced, as an attacker would edit it. */
function editJson(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const start = text.indexOf('{');
  if (start < 0) return b64json({ pk: keys.org(orgs.a), sk: 'INT#' });
  const edited = text.slice(0, start) + text.slice(start).replace(/"sk":"[^"]*"/, '"sk":"INT#"').replace(/"section":\d+/, '"section":0');
  return Buffer.from(edited).toString('base64url');
}

/** Real cursors exist only once the fixture is written: a case's cursor is made when the case runs. */
interface CraftedCase {
  name: string;
  request: () => Request;
}

function craftedCases(): CraftedCase[] {
  const cases: CraftedCase[] = [];
  const pk = keys.org(orgs.a);
  for (const route of routes) {
    const base: Request = { route, org: 'a', integration: 'x', resource: 'users' };
    const add = (name: string, cursor: string | (() => string), overrides: Partial<Request> = {}) =>
      cases.push({ name: `${route}: ${name}`, request: () => ({ ...base, ...overrides, cursor: typeof cursor === 'string' ? cursor : cursor() }) });
    const real = () => realCursors[route];

    add('garbage with characters outside base64url', '%%%not-a-cursor!!!');
    add('empty', '');
    add('random base64url bytes', randomBytes(48).toString('base64url'));
    add('base64 (not base64url) with padding', Buffer.from('{"pk":"x"}').toString('base64'));
    add('JSON array', b64json([]));
    add('JSON string', b64json('cursor'));
    add('JSON number', b64json(42));
    add('JSON null', b64json(null));
    add('empty object', b64json({}));
    add('key attributes of the wrong types', b64json({ pk: 1, sk: 2 }));
    add('key attributes as DynamoDB JSON', b64json({ pk: { S: pk }, sk: { S: 'INT#' } }));
    add('a missing key attribute', b64json({ pk }));
    add('an extra key attribute', b64json({ pk, sk: 'INT#', routeKey: 'ACCOUNT#slack#T1' }));
    add('a well-formed key the server never issued', b64json({ pk, sk: `INT#${integrations.a.y}` }));
    add('a sort key past DynamoDB limits', b64json({ pk, sk: `INT#${'x'.repeat(1100)}` }));
    add('an export section out of range', b64json({ section: 99 }));
    add('a negative export section', b64json({ section: -1 }));
    add('a fractional export section', b64json({ section: 1.5 }));
    add('an export section as a string', b64json({ section: '1' }));
    add('an export key of another partition', b64json({ section: 0, key: { pk: keys.org(orgs.b), sk: 'INT#' } }));
    add('an export key with extra attributes', b64json({ section: 1, key: { pk, sk: 'CONSENT#', extra: true } }));
    add('an export key of the wrong type', b64json({ section: 1, key: ['pk', 'sk'] }));

    add('a real cursor with its first character changed', () => alterAt(real(), 0));
    add('a real cursor with its last character changed', () => alterAt(real(), -1));
    add('a real cursor with a byte flipped', () => flipByte(real()));
    add('a real cursor with its JSON edited', () => editJson(real()));
    add('a real cursor truncated', () => real().slice(0, -4));
    add('a real cursor with bytes appended', () => `${real()}AAAA`);
    add('a real cursor twice', () => `${real()}${real()}`);

    // Another organisation's caller presenting this organisation's real cursor (for its own integration).
    add('a real cursor of another organisation', real, { org: 'b' });
    if (perIntegration(route)) add('a real cursor of another integration', real, { integration: 'y' });
    if (route === 'records') add('a real cursor of another resource', real, { resource: 'channels' });
    for (const other of routes) if (other !== route) add(`a real cursor of ${other}`, () => realCursors[other]);
    if (route !== 'export-integration') add('a real export cursor that carries a key', () => exportIntegrationKeyCursor);

    add('oversized: 5,000 characters', 'A'.repeat(5000));
    add('oversized: 100,000 characters', 'A'.repeat(100_000));
    add('oversized: a real cursor padded to 3,000 characters', () => `${real()}${'A'.repeat(3000 - real().length)}`);
  }
  return cases;
}

/** Every console line written while `run` runs (Powertools logs through the global console). */
let consoleSpies: MockInstance[] = [];
function startCapture(): void {
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method));
}
function capturedLines(): string[] {
  return consoleSpies.flatMap((spy) => spy.mock.calls.map((args) => args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')));
}
function clearCapture(): void {
  for (const spy of consoleSpies) spy.mockClear();
}
const errorLines = () => capturedLines().filter((line) => /"level":\s*"(ERROR|CRITICAL)"/.test(line));

async function partitionSnapshot(orgId: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.org(orgId) }, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const CONSENTS = 12;
/** Large enough that a dozen consents pass DynamoDB's 1 MB page: the consent and export routes then page too. */
const LARGE_USER_AGENT = 'Mozilla/5.0 '.padEnd(100_000, 'x');
const snapshots: Record<Org, unknown[]> = { a: [], b: [] };

beforeAll(async () => {
  const now = new Date();
  for (const org of ['a', 'b'] as const) {
    for (const which of ['x', 'y'] as const) {
      const id = integrations[org][which];
      await createIntegration(integrationRecord(orgs[org], { id }));
      for (const resource of ['users', 'channels']) {
        await writeRecords(orgs[org], id, resource, [0, 1, 2].map((i) => ({ externalId: `${resource}-${i}`, deleted: false, data: { i } })), now);
      }
      for (let i = 0; i < 3; i += 1) {
        const startedAt = new Date(now.getTime() - (3 - i) * 60_000).toISOString();
        await writeSyncLog(orgs[org], id, { syncId: `sync-${which}-${i}`, trigger: 'manual', startedAt, endedAt: startedAt, durationMs: 1, outcome: 'succeeded', counts: {} });
      }
    }
    for (let i = 0; i < CONSENTS; i += 1) {
      await recordConsent({
        orgId: orgs[org],
        integrationId: integrations[org].x,
        providerId: 'slack',
        userId: 'user-1',
        grantedAt: new Date(now.getTime() - (CONSENTS - i) * 1000).toISOString(),
        scopesRequested: ['users:read'],
        scopesGranted: ['users:read'],
        ipAddress: '203.0.113.7',
        userAgent: LARGE_USER_AGENT,
        consentVersion: '2025-01',
      });
    }
  }
  for (const route of routes) {
    const first = await send({ route, org: 'a', integration: 'x', resource: 'users' });
    expect(first.statusCode, first.raw).toBe(200);
    const cursor = nextCursorOf(first);
    if (cursor === undefined) throw new Error(`${route} issued no cursor: the fixture must make every route page`);
    realCursors[route] = cursor;
  }
  // The integration export's second section (its consents) passes 1 MB: a cursor with a key inside the section.
  const consentsSection = await send({ route: 'export-integration', org: 'a', integration: 'x', resource: 'users', cursor: realCursors['export-integration'] });
  exportIntegrationKeyCursor = nextCursorOf(consentsSection) ?? '';
  expect(exportIntegrationKeyCursor).not.toBe('');
  snapshots.a = await partitionSnapshot(orgs.a);
  snapshots.b = await partitionSnapshot(orgs.b);
  startCapture();
}, 60_000);

afterAll(() => {
  vi.restoreAllMocks();
});

describe('the log capture', () => {
  it('sees an ERROR line when one is written (so the checks below can fail)', () => {
    clearCapture();
    logger.error('capture check');
    expect(errorLines()).toHaveLength(1);
  });
});

describe('crafted cursors on the six paginated routes', () => {
  it.each(craftedCases().map((crafted) => [crafted.name, crafted] as const))('%s → 400 bad_request, no ERROR log', async (_name, crafted) => {
    clearCapture();
    const response = await send(crafted.request());
    expect(response.statusCode, response.raw).toBe(400);
    expect(response.json).toEqual({ success: false, error: { code: 'bad_request', message: expect.any(String) } });
    expect(errorLines()).toEqual([]);
  });

  it('changed nothing in either organisation', async () => {
    expect(await partitionSnapshot(orgs.a)).toEqual(snapshots.a);
    expect(await partitionSnapshot(orgs.b)).toEqual(snapshots.b);
  });
});

describe('real cursors', () => {
  it.each(routes)('%s: pages to the end, every item once, with short opaque cursors', async (route) => {
    clearCapture();
    const { items, pages } = await walk(route);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(items).size).toBe(items.length);
    const expected: Record<RouteName, number> = {
      integrations: 2,
      records: 3,
      'sync-logs': 3,
      consents: CONSENTS,
      // Both integrations, their 6 records and 3 logs each, and the consents of x.
      'export-org': 2 + 12 + 6 + CONSENTS,
      'export-integration': 1 + 6 + 3 + CONSENTS,
    };
    expect(items).toHaveLength(expected[route]);
    expect(realCursors[route]).toMatch(/^[A-Za-z0-9_-]{16,400}$/);
    expect(errorLines()).toEqual([]);
  });

  it('sync logs and consents come newest first across pages', async () => {
    expect((await walk('sync-logs')).items).toEqual(['sync-x-2', 'sync-x-1', 'sync-x-0']);
    const consents = (await walk('consents')).items;
    expect(consents).toEqual([...consents].sort().reverse());
  });

  it('the same real cursor, presented again by its own caller, still works', async () => {
    for (const route of routes) {
      const again = await send({ route, org: 'a', integration: 'x', resource: 'users', cursor: realCursors[route] });
      expect(again.statusCode, `${route}: ${again.raw}`).toBe(200);
    }
  });
});
