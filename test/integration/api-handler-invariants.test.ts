import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { lambdaContext } from '../../infra/local/lambda-events';
import { AppError, IntegrationErasedError, InvalidCursorError, VersionConflictError, notFound } from '../../shared/domain/errors';
import { ProviderError } from '../../shared/oauth/errors';
import { MAX_BODY_BYTES, apiHandler, errorResponse, summarizeIssues } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { apiEvent, call, claimsFor, type CallOptions } from '../support/api';

/**
 * The API's common pipeline (apiHandler), in process with real API Gateway v2
 * events: the JSON content-type check (415), the body limit, how input is
 * parsed and reported, how errors map to the envelope and what is logged.
 */
const echo = apiHandler({
  permission: 'integrations:connect',
  params: z.object({ id: z.string().optional() }),
  query: z.object({ q: z.string().optional() }),
  body: z.object({ name: z.string().optional(), nested: z.object({ a: z.number() }).optional() }),
  handle: async ({ params, query, body, principal }) => success({ params, query, body, principal }),
});

const noBody = apiHandler({
  permission: 'integrations:read',
  handle: async ({ body, params, query }) => success({ body: body === undefined, params: params === undefined, query: query === undefined }),
});

const publicRoute = apiHandler({
  permission: 'public',
  handle: async () => success({ slackClientId: process.env.SLACK_CLIENT_ID ?? null }),
});

let toThrow: unknown;
const thrower = apiHandler({
  permission: 'integrations:read',
  handle: async () => {
    throw toThrow;
  },
});

const post = (options: CallOptions = {}): CallOptions => ({ method: 'POST', path: '/api/test', claims: claimsFor('org-api'), ...options });
const json = (body: string, contentType = 'application/json'): CallOptions => post({ body, headers: { 'content-type': contentType } });

describe('the JSON content-type check', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/merge-patch+json',
    'application/vnd.api+json',
    'application/x+json',
  ])('accepts a body sent as %s', async (contentType) => {
    const response = await call(echo, json('{"name":"n"}', contentType));
    expect(response.statusCode).toBe(200);
    expect(response.json.data).toMatchObject({ body: { name: 'n' } });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/jsonp', 'application/+json', 'xapplication/json', 'text/html; application/json', 'json'])(
    'answers 415 to a body sent as %s',
    async (contentType) => {
      const response = await call(echo, json('{"name":"n"}', contentType));
      expect(response.statusCode).toBe(415);
      expect(response.json).toEqual({ success: false, error: { code: 'unsupported_media_type', message: 'Request body must be application/json' } });
    },
  );

  it('answers 415 to a body without a content type', async () => {
    expect((await call(echo, post({ body: '{"name":"n"}' }))).statusCode).toBe(415);
  });

  it('needs no content type without a body: the schema sees {}', async () => {
    const response = await call(echo, post());
    expect(response.statusCode).toBe(200);
    expect(response.json.data).toMatchObject({ body: {} });
  });

  it('ignores the body (and its type) on a route that takes none, but still limits its size', async () => {
    const ignored = await call(noBody, post({ body: 'plain text', headers: { 'content-type': 'text/plain' } }));
    expect(ignored.statusCode).toBe(200);
    expect(ignored.json.data).toEqual({ body: true, params: true, query: true });
    const tooBig = await call(noBody, post({ body: 'x'.repeat(MAX_BODY_BYTES + 1), headers: { 'content-type': 'text/plain' } }));
    expect(tooBig.statusCode).toBe(413);
  });
});

describe('the body', () => {
  it('is limited to exactly 64 KiB, counted in bytes', async () => {
    expect(MAX_BODY_BYTES).toBe(65_536);
    const exactly = `{"name":"${'x'.repeat(MAX_BODY_BYTES - 11)}"}`;
    expect(Buffer.byteLength(exactly)).toBe(MAX_BODY_BYTES);
    expect((await call(echo, json(exactly))).statusCode).toBe(200);
    expect((await call(echo, json(`{"name":"${'x'.repeat(MAX_BODY_BYTES - 10)}"}`))).statusCode).toBe(413);
    // 40,000 characters but 80,000 bytes.
    expect((await call(echo, json(`{"name":"${'é'.repeat(40_000)}"}`))).statusCode).toBe(413);
  });

  it('is decoded when API Gateway passes it base64-encoded', async () => {
    const event: APIGatewayProxyEventV2 = apiEvent(json('{}'));
    event.body = Buffer.from('{"name":"from-base64"}').toString('base64');
    event.isBase64Encoded = true;
    const result = await echo(event, lambdaContext('test', 10));
    expect(JSON.parse(String(result.body)).data.body).toEqual({ name: 'from-base64' });
  });

  it('an empty body is no body', async () => {
    const event: APIGatewayProxyEventV2 = apiEvent(post());
    event.body = '';
    const result = await echo(event, lambdaContext('test', 10));
    expect(result.statusCode).toBe(200);
  });

  it('that is not JSON is a 400', async () => {
    const response = await call(echo, json('{"name":'));
    expect(response.statusCode).toBe(400);
    expect(response.json.error).toEqual({ code: 'bad_request', message: 'The request body is not valid JSON' });
  });

  it('that does not fit the schema is a readable 400', async () => {
    const response = await call(echo, json('{"name":5,"nested":{"a":"x"}}'));
    expect(response.statusCode).toBe(400);
    expect(response.json.error?.code).toBe('validation_failed');
    expect(response.json.error?.message).toMatch(/^Invalid body: name: .+; nested\.a: .+$/);
  });

  it('a JSON null is read as an empty object', async () => {
    expect((await call(echo, json('null'))).json.data).toMatchObject({ body: {} });
  });
});

describe('path and query', () => {
  it('are parsed from the event, absent ones as {}', async () => {
    const none = await call(echo, post());
    expect(none.json.data).toMatchObject({ params: {}, query: {} });
    const both = await call(echo, post({ pathParameters: { id: 'int_1' }, query: 'q=hello' }));
    expect(both.json.data).toMatchObject({ params: { id: 'int_1' }, query: { q: 'hello' } });
  });

  it('report what was wrong, where', async () => {
    const handler = apiHandler({
      permission: 'public',
      params: z.object({ id: z.string().min(3) }),
      query: z.object({ limit: z.coerce.number().max(10) }),
      handle: async () => success(null),
    });
    const badPath = await call(handler, { pathParameters: { id: 'x' }, query: 'limit=1' });
    expect(badPath.json.error?.message).toMatch(/^Invalid path: id: /);
    const badQuery = await call(handler, { pathParameters: { id: 'xyz' }, query: 'limit=11' });
    expect(badQuery.json.error?.message).toMatch(/^Invalid query: limit: /);
    expect(badQuery.statusCode).toBe(400);
  });
});

describe('summarizeIssues', () => {
  const issuesOf = (schema: z.ZodType, value: unknown): z.ZodError => {
    const parsed = schema.safeParse(value);
    if (parsed.success) throw new Error('expected a failure');
    return parsed.error;
  };
  const fields = (count: number) => z.object(Object.fromEntries(Array.from({ length: count }, (_, i) => [`f${i}`, z.string()])));

  it('names the part itself when the whole value is wrong', () => {
    expect(summarizeIssues('body', issuesOf(z.object({}), 'text'))).toMatch(/^Invalid body: body: .+$/);
  });

  it('lists up to five issues, separated, then says how many more', () => {
    const fiveIssues = issuesOf(fields(5), {});
    const five = summarizeIssues('query', fiveIssues);
    expect(five).toBe(`Invalid query: ${fiveIssues.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    expect(five).toMatch(/^Invalid query: f0: .+; f1: .+; f2: .+; f3: .+; f4: [^;]+$/);
    const seven = summarizeIssues('query', issuesOf(fields(7), {}));
    expect(seven).toMatch(/; f4: [^;]+ \(and 2 more\)$/);
    expect(seven).not.toContain('f5');
  });
});

describe('authentication in the pipeline', () => {
  it('passes the principal to the route', async () => {
    const response = await call(echo, post({ claims: claimsFor('org-p', 'hr', 'user-9') }));
    expect(response.json.data).toMatchObject({ principal: { orgId: 'org-p', userId: 'user-9', role: 'hr' } });
  });

  it('refuses a role without the permission (403) and a missing principal (401) before reading the body', async () => {
    const forbidden = await call(echo, json('not json', 'text/plain'));
    expect(forbidden.statusCode).toBe(415);
    const manager = await call(echo, { ...json('{}'), claims: claimsFor('org-p', 'manager') });
    expect(manager.statusCode).toBe(403);
    expect(manager.json.error).toEqual({ code: 'forbidden', message: 'Your role does not allow this action' });
    expect((await call(echo, { ...json('{}'), claims: null })).statusCode).toBe(401);
  });

  it('lets anyone call a public route', async () => {
    expect((await call(publicRoute, { claims: null })).statusCode).toBe(200);
  });
});

describe('errors', () => {
  it.each([
    ['an AppError', notFound('Integration'), 404, { code: 'not_found', message: 'Integration not found' }],
    ['a 5xx AppError', new AppError(503, 'provider_unavailable', 'Slack is down'), 503, { code: 'provider_unavailable', message: 'Slack is down' }],
    ['an invalid cursor', new InvalidCursorError(), 400, { code: 'bad_request', message: 'The cursor is not one this API issued' }],
    ['a version conflict', new VersionConflictError(), 409, { code: 'conflict', message: 'The integration changed at the same time; retry the request' }],
    ['an integration erased while the request ran', new IntegrationErasedError('int_01JD3X8Q9W7T5V4N2M1K0H8G6F'), 404, { code: 'not_found', message: 'Integration not found' }],
    ['a provider that stalls', new ProviderError('slack', 'timeout', 0, 'transient'), 503, { code: 'provider_unavailable', message: 'slack is not answering right now (timeout); retry later' }],
  ])('maps %s to the envelope', async (_label, error, status, body) => {
    toThrow = error;
    const response = await call(thrower, { claims: claimsFor('org-e') });
    expect(response.statusCode).toBe(status);
    expect(response.json).toEqual({ success: false, error: body });
  });

  it('maps anything else to a 500 with a reference and nothing of the error', async () => {
    const context = lambdaContext('test', 10);
    const result = errorResponse(new Error('DynamoDB said: table secret-table not found'), context);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(String(result.body))).toEqual({
      success: false,
      error: { code: 'internal_error', message: `An unexpected error occurred (reference ${context.awsRequestId})` },
    });
  });
});

describe('what the pipeline logs', () => {
  let lines: Array<Record<string, unknown>>;
  beforeEach(() => {
    lines = [];
    for (const method of ['info', 'warn', 'error', 'debug', 'log'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        for (const arg of args) {
          try {
            const parsed: unknown = JSON.parse(String(arg));
            if (parsed && typeof parsed === 'object') lines.push(parsed as Record<string, unknown>);
          } catch {
            // not a structured line
          }
        }
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  it('a provider that is rate limiting or down: 503 with Retry-After when it gave one, one WARN line naming it, no ERROR', async () => {
    toThrow = new ProviderError('slack', 'rate_limited', 429, 'transient', 30);
    const limited = await call(thrower, { claims: claimsFor('org-503') });
    expect(limited.statusCode).toBe(503);
    expect(limited.headers['retry-after']).toBe('30');
    toThrow = new ProviderError('google', 'http_502', 502, 'transient');
    const down = await call(thrower, { claims: claimsFor('org-503') });
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBeUndefined();
    expect(lines.filter((line) => line.level === 'WARN')).toEqual([
      expect.objectContaining({ message: 'Provider unavailable', providerId: 'slack', errorCode: 'rate_limited' }),
      expect.objectContaining({ message: 'Provider unavailable', providerId: 'google', errorCode: 'http_502' }),
    ]);
    expect(lines.filter((line) => line.level === 'ERROR')).toEqual([]);
  });

  it('a provider refusal that retrying would not fix is not a 503', async () => {
    toThrow = new ProviderError('slack', 'missing_scope', 200, 'rejected');
    expect((await call(thrower, { claims: claimsFor('org-503') })).statusCode).toBe(500);
  });

  it('a rejected request: one info line with status, code and reason, and who asked', async () => {
    await call(echo, { ...json('{}'), claims: claimsFor('org-log', 'manager', 'user-log') });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'Request rejected',
        status: 403,
        errorCode: 'forbidden',
        reason: 'Your role does not allow this action',
        orgId: 'org-log',
        userId: 'user-log',
        role: 'manager',
        function_name: 'test',
      }),
    ]);
  });

  it("keys of one request do not leak into the next request's lines", async () => {
    await call(echo, { ...json('{}'), claims: claimsFor('org-first', 'manager', 'user-first') });
    toThrow = notFound('Thing');
    await call(apiHandler({ permission: 'public', handle: async () => { throw notFound('Thing'); } }), { claims: null });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ message: 'Request rejected', status: 404 });
    expect(lines[1]).not.toHaveProperty('orgId');
    expect(lines[1]).not.toHaveProperty('userId');
  });

  it.each([500, 502])('an AppError with status %i is logged as an error, with the error', async (status) => {
    toThrow = new AppError(status, 'provider_unavailable', 'upstream failed');
    const response = await call(thrower, { claims: claimsFor('org-e') });
    expect(response.statusCode).toBe(status);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'ERROR', message: 'Request failed', error: expect.objectContaining({ message: 'upstream failed' }) });
  });

  it('an AppError with status 499 is a rejection (info), not an error', async () => {
    toThrow = new AppError(499, 'bad_request', 'client went away');
    await call(thrower, { claims: claimsFor('org-e') });
    expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'Request rejected', status: 499 })]);
  });

  it('an unexpected error is logged as an error (the details stay in the log, not in the answer)', async () => {
    toThrow = new Error('internal detail');
    const response = await call(thrower, { claims: claimsFor('org-e') });
    expect(response.raw).not.toContain('internal detail');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'ERROR', message: 'Unhandled error', error: expect.objectContaining({ message: 'internal detail' }) });
  });
});

describe('provider credentials from Secrets Manager (AWS)', () => {
  const secrets = mockClient(SecretsManagerClient);
  afterEach(() => {
    secrets.reset();
    delete process.env.PROVIDER_CREDENTIALS_SECRET_ARN;
    delete process.env.SLACK_CLIENT_ID;
  });

  it('are loaded before the route runs', async () => {
    process.env.PROVIDER_CREDENTIALS_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:creds';
    delete process.env.SLACK_CLIENT_ID;
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ SLACK_CLIENT_ID: 'from-secrets-manager' }) });
    const response = await call(publicRoute, { claims: null });
    expect(response.json.data).toEqual({ slackClientId: 'from-secrets-manager' });
    expect(secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({ SecretId: process.env.PROVIDER_CREDENTIALS_SECRET_ARN });
  });
});
