import { describe, expect, it } from 'vitest';
import { LocalEventBus } from '../../infra/local/event-bus';
import type { LoadedFunction } from '../../infra/local/functions';
import { functionUrlEvent, httpApiEvent, toHttpResponse, type IncomingRequest } from '../../infra/local/lambda-events';
import { Router } from '../../infra/local/router';
import { parseRate } from '../../infra/local/scheduler';
import type { FunctionSpec } from '../../infra/manifest';
import { manifest } from '../../infra/manifest';

const request = (overrides: Partial<IncomingRequest> = {}): IncomingRequest => ({
  method: 'POST',
  rawPath: '/api/integrations/int_1',
  rawQueryString: 'a=1&b=2&a=3',
  headers: { Host: 'localhost:3000', 'User-Agent': 'curl/8', 'Content-Type': 'application/json', Cookie: 'x=1; y=2' },
  body: Buffer.from('{"k":"v"}'),
  sourceIp: '127.0.0.1',
  ...overrides,
});

describe('API Gateway v2 events built by the local runtime', () => {
  it('has the HTTP API payload 2.0 shape, with the JWT claims where the authorizer puts them', () => {
    const event = httpApiEvent(request(), {
      routeKey: 'POST /api/integrations/{id}',
      pathParameters: { id: 'int_1' },
      claims: { sub: 'u1', org_id: 'acme', role: 'admin', exp: 1_900_000_000 },
    });
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /api/integrations/{id}',
      rawPath: '/api/integrations/int_1',
      rawQueryString: 'a=1&b=2&a=3',
      cookies: ['x=1', 'y=2'],
      headers: { host: 'localhost:3000', 'user-agent': 'curl/8', 'content-type': 'application/json' },
      queryStringParameters: { a: '1,3', b: '2' },
      pathParameters: { id: 'int_1' },
      body: '{"k":"v"}',
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/api/integrations/int_1', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'curl/8' },
        routeKey: 'POST /api/integrations/{id}',
        stage: '$default',
        authorizer: { jwt: { claims: { sub: 'u1', org_id: 'acme', role: 'admin', exp: '1900000000' }, scopes: null } },
      },
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
  });

  it('base64-encodes binary bodies, and builds Function URL events with routeKey $default and no authorizer', () => {
    const event = functionUrlEvent(request({ headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 255]) }));
    expect(event.routeKey).toBe('$default');
    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe('AP8=');
    expect('authorizer' in event.requestContext).toBe(false);
  });

  it('maps results back as API Gateway does', () => {
    expect(toHttpResponse('{"a":1}')).toMatchObject({ statusCode: 200, body: Buffer.from('{"a":1}') });
    expect(toHttpResponse({ statusCode: 302, headers: { Location: '/x' } })).toMatchObject({ statusCode: 302, headers: { location: '/x' } });
    expect(toHttpResponse({ statusCode: 200, body: 'AP8=', isBase64Encoded: true }).body).toEqual(Buffer.from([0, 255]));
  });
});

describe('route selection', () => {
  const spec = (method: 'GET' | 'DELETE', path: string): { spec: FunctionSpec } => ({
    spec: { name: path, entry: '', description: '', trigger: { kind: 'http', method, path, auth: 'jwt' }, access: { table: 'none', tokenKey: 'none', publishEvents: false }, timeoutSeconds: 1, memoryMb: 128 },
  });
  const router = new Router([spec('GET', '/api/integrations/{id}'), spec('GET', '/api/integrations/providers'), spec('DELETE', '/api/integrations/{id}'), spec('GET', '/files/{proxy+}')]);

  it('prefers literal segments over parameters, and matches the method', () => {
    const providers = router.lookup('GET', '/api/integrations/providers');
    expect(providers.kind === 'match' && providers.match.routeKey).toBe('GET /api/integrations/providers');
    const one = router.lookup('GET', '/api/integrations/int_1');
    expect(one.kind === 'match' && one.match.pathParameters).toEqual({ id: 'int_1' });
    const remove = router.lookup('DELETE', '/api/integrations/int_1');
    expect(remove.kind === 'match' && remove.match.routeKey).toBe('DELETE /api/integrations/{id}');
    expect(router.lookup('PATCH', '/api/integrations/int_1').kind).toBe('method_not_allowed');
    expect(router.lookup('GET', '/api/integrations/int_1/extra').kind).toBe('none');
  });

  it('matches greedy {proxy+} paths', () => {
    const files = router.lookup('GET', '/files/a/b%20c');
    expect(files.kind === 'match' && files.match.pathParameters).toEqual({ proxy: 'a/b c' });
  });

  it('routes every manifest HTTP entry to itself', () => {
    const real = new Router(manifest.map((entry) => ({ spec: entry })));
    for (const entry of manifest) {
      if (entry.trigger.kind !== 'http') continue;
      const path = entry.trigger.path.replace(/\{[^}]+\}/g, 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F');
      const found = real.lookup(entry.trigger.method, path);
      expect(found.kind === 'match' && found.match.target.spec.name).toBe(entry.name);
    }
  });
});

describe('schedule rates', () => {
  it('parses the manifest rates and refuses anything else', () => {
    expect(parseRate('rate(15 minutes)')).toBe(900_000);
    expect(parseRate('rate(1 hour)')).toBe(3_600_000);
    expect(() => parseRate('cron(0 * * * ? *)')).toThrow(/Unsupported/);
  });
});

describe('the local event bus', () => {
  const target = (reservedConcurrency: number | undefined, work: () => Promise<void>): LoadedFunction => ({
    spec: {
      name: 'deliver-event-webhooks',
      entry: '',
      description: '',
      trigger: { kind: 'event', detailTypes: ['integration.alert'] },
      access: { table: 'none', tokenKey: 'none', publishEvents: false },
      timeoutSeconds: 1,
      memoryMb: 128,
      ...(reservedConcurrency === undefined ? {} : { reservedConcurrency }),
    },
    invoke: work,
  });
  const alerts = (count: number) => ({
    Entries: Array.from({ length: count }, (_, index) => ({ Source: 'hr.integrations', DetailType: 'integration.alert', Detail: JSON.stringify({ orgId: 'acme', kind: `k${index}` }), EventBusName: 'bus' })),
  });

  it("runs a target at most its reserved concurrency at a time; the events beyond it wait their turn (AWS throttles and retries them), none is lost", async () => {
    let running = 0;
    let most = 0;
    let done = 0;
    const bus = new LocalEventBus('bus', [
      target(3, async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        done += 1;
      }),
    ]);
    expect(bus.putEvents(alerts(10)).statusCode).toBe(200);
    expect(bus.putEvents(alerts(10)).statusCode).toBe(200);
    await bus.idle();
    expect({ most, done, dead: bus.deadLetters() }).toEqual({ most: 3, done: 20, dead: [] });
  });

  it('an event that waits past the bound for a busy target is dead-lettered as throttled, not retried', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const bus = new LocalEventBus('bus', [target(1, () => held)], { throttledWaitMs: 10 });
    bus.putEvents(alerts(2));
    while (bus.deadLetters().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    await bus.idle();
    expect(bus.deadLetters()).toEqual([expect.objectContaining({ target: 'deliver-event-webhooks', error: expect.stringMatching(/^ThrottledError: throttled/) })]);
  });
});
