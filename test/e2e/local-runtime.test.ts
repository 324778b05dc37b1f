import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTable, startEmbeddedDynamo } from '../../infra/local/embedded-store';
import { LOCAL_AUDIENCE, LOCAL_ISSUER, mintLocalToken, verifyLocalToken } from '../../infra/local/jwt';
import { integrationRecord } from '../support/api';
import { startLocalProcess, userEnvironment, type LocalProcess } from '../support/local-process';

/**
 * The local runtime as a new user meets it: a child process on its embedded
 * defaults (fresh DATA_DIR, no keys set), called over HTTP.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-e2e-'));
let server: LocalProcess | undefined;

afterAll(async () => {
  await server?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const jwtSecret = () => (JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string }).jwtSecret;

async function api(path: string, token?: string, init: RequestInit = {}) {
  const response = await fetch(`${server?.url}${path}`, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** fetch refuses a GET with a body; API Gateway does not. */
function getWithBody(url: string, token: string, body: string) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = request(url, { method: 'GET', headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sign = (claims: Record<string, unknown>, secret = jwtSecret(), expiresIn = '1h') =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));

describe('npm start: the local runtime on embedded defaults', () => {
  let adminToken = '';

  it('starts on a fresh DATA_DIR, generating its keys there (0600)', async () => {
    server = await startLocalProcess({ DATA_DIR: dataDir });
    expect(server.output()).toContain('npm run -s token -- --org acme --role admin');
    const mode = statSync(join(dataDir, 'local-secrets.json')).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('mints a token with `npm run -s token` that the server accepts', async () => {
    adminToken = execFileSync('npm', ['run', '-s', 'token', '--', '--org', 'acme', '--role', 'admin'], {
      env: userEnvironment({ DATA_DIR: dataDir }),
      encoding: 'utf8',
    }).trim();
    expect(adminToken.split('.')).toHaveLength(3);
    const providers = await api('/api/integrations/providers', adminToken);
    expect(providers.status).toBe(200);
    expect((providers.body.data as Array<{ id: string }>).map((p) => p.id)).toEqual(['slack', 'google', 'microsoft', 'asana', 'notion']);
    expect(await api('/api/integrations', adminToken)).toEqual({ status: 200, body: { success: true, data: [] } });
  });

  it('answers 401 in the envelope for a missing, malformed, expired, forged, alg:none or wrong-audience token', async () => {
    const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = { sub: 'u', org_id: 'acme', role: 'admin' };
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${header({ alg: 'none', typ: 'JWT' })}.${header({ ...claims, iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, exp: now + 600 })}.`;
    const cases: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['garbage', { authorization: 'Bearer not.a.jwt' }],
      ['expired', { authorization: `Bearer ${await sign(claims, jwtSecret(), '-1m')}` }],
      ['forged', { authorization: `Bearer ${await sign(claims, 'another-secret-that-is-long-enough-123')}` }],
      ['alg none', { authorization: `Bearer ${unsigned}` }],
      ['wrong audience', { authorization: `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(LOCAL_ISSUER).setAudience('someone-else').setExpirationTime('1h').sign(new TextEncoder().encode(jwtSecret()))}` }],
    ];
    for (const [name, headers] of cases) {
      const response = await api('/api/integrations', undefined, { headers });
      expect(response.status, name).toBe(401);
      expect(response.body, name).toEqual({ success: false, error: { code: 'unauthorized', message: expect.any(String) } });
    }
    // Signed and valid, but without org_id: the handler refuses it.
    const noOrg = await api('/api/integrations', await sign({ sub: 'u', role: 'admin' }));
    expect(noOrg.status).toBe(401);
  });

  it('applies the role matrix over HTTP', async () => {
    const as = (role: string) => mintLocalToken(jwtSecret(), { orgId: 'acme', role, sub: `${role}-1`, ttlSeconds: 60 });
    expect((await api('/api/integrations', await as('manager'))).status).toBe(200);
    const employee = await api('/api/integrations', await as('employee'));
    expect(employee.status).toBe(403);
    expect(employee.body).toMatchObject({ success: false, error: { code: 'forbidden' } });
  });

  it('answers bad input with the envelope and a 4xx, never a 5xx', async () => {
    expect(await api('/api/nowhere', adminToken)).toMatchObject({ status: 404, body: { success: false, error: { code: 'not_found' } } });
    expect(await api('/api/integrations/not-an-id', adminToken)).toMatchObject({ status: 400, body: { error: { code: 'validation_failed' } } });
    expect(await api('/api/integrations?limit=-4', adminToken)).toMatchObject({ status: 400 });
    const overLimit = await getWithBody(`${server?.url}/api/integrations`, adminToken, JSON.stringify({ padding: 'x'.repeat(70 * 1024) }));
    expect(overLimit).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
    const tooLarge = await fetch(`${server?.url}/api/integrations/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(7 * 1024 * 1024),
    }).catch((error: unknown) => error);
    // Past Lambda's 6 MB payload limit the runtime answers 413 (or closes the connection mid-upload).
    if (tooLarge instanceof Response) expect(tooLarge.status).toBe(413);
  });

  it('runs a local EventBridge: PutEvents on the wire, delivery to the rule targets, a visible event log', async () => {
    const client = new EventBridgeClient({
      endpoint: `${server?.url}/_local/eventbridge`,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: 'hr-integrations', Source: 'hr.integrations', DetailType: 'SyncRequested', Detail: JSON.stringify({ orgId: 'acme', integrationId: 'int_x' }) },
          { EventBusName: 'no-such-bus', Source: 'hr.integrations', DetailType: 'SyncRequested', Detail: '{}' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries?.[1]?.ErrorCode).toBe('ResourceNotFoundException');
    const events = (await api('/_local/events')).body.events as Array<{ 'detail-type': string; detail: { integrationId?: string } }>;
    expect(events.at(-1)).toMatchObject({ 'detail-type': 'SyncRequested', detail: { integrationId: 'int_x' } });
    expect((await api('/_local/dead-letters')).body).toEqual({ deadLetters: [] });
  });

  it('serves the settings page OAuth returns to (echoing nothing of the query), its component module and the local dev sign-in', async () => {
    const response = await fetch(`${server?.url}/settings/integrations?integration=int_1&status=connected&x=<script>`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('<hr-integrations api-base="">');
    expect(html).not.toContain('int_1');
    expect(html).not.toContain('<script>');
    const component = await fetch(`${server?.url}/settings/integrations/hr-integrations.js`);
    expect(component.headers.get('content-type')).toContain('text/javascript');
    expect(await component.text()).toContain('hr-integrations');

    const signIn = (body: unknown, contentType = 'application/json') =>
      api('/_local/dev-sign-in', undefined, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) });
    expect((await signIn({ orgId: 'acme', role: 'hr', userId: 'jane' }, 'text/plain')).status).toBe(415);
    expect((await signIn({ orgId: 'acme', role: 'owner', userId: 'jane' })).status).toBe(400);
    const signedIn = await signIn({ orgId: 'acme', role: 'hr', userId: 'jane' });
    const token = (signedIn.body.data as { token: string }).token;
    expect(await verifyLocalToken(jwtSecret(), `Bearer ${token}`)).toMatchObject({ sub: 'jane', org_id: 'acme', role: 'hr' });
  });

  it('runs a scheduled job on demand', async () => {
    const run = await api('/_local/jobs/dispatch-sync', undefined, { method: 'POST' });
    expect(run).toEqual({ status: 200, body: { success: true, data: { job: 'dispatch-sync', due: 0, published: 0, alerts: 0 } } });
    expect((await api('/_local/jobs/no-such-job', undefined, { method: 'POST' })).status).toBe(404);
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await server?.stop('SIGTERM')).toBe(0);
    expect(server?.output()).toContain('stopped cleanly');
  });

  it('keeps its data and keys across a restart (dynalite on disk under DATA_DIR)', async () => {
    // Write an integration straight into the on-disk store while the runtime is down.
    const store = await startEmbeddedDynamo({ path: join(dataDir, 'dynamodb') });
    await ensureTable(store.endpoint, 'hr-integrations');
    const client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ endpoint: store.endpoint, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }),
    );
    const record = integrationRecord('acme', { providerId: 'microsoft' });
    await client.send(new PutCommand({ TableName: 'hr-integrations', Item: { pk: 'ORG#acme', sk: `INT#${record.id}`, ...record } }));
    client.destroy();
    await store.close();

    server = await startLocalProcess({ DATA_DIR: dataDir });
    const listed = await api('/api/integrations', adminToken);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: record.id, providerId: 'microsoft', providerName: 'Microsoft 365' })]);
    expect(await server.stop('SIGINT')).toBe(0);
  });
});
