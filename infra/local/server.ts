import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionSpec } from '../manifest';
import { settlesBy } from './deadline';
import { LocalEventBus } from './event-bus';
import { loadFunctions, type LoadedFunction } from './functions';
import { verifyLocalToken } from './jwt';
import { functionUrlEvent, httpApiEvent, toHttpResponse, type IncomingRequest, type JwtClaims } from './lambda-events';
import { Router } from './router';
import { DEV_SIGN_IN_PATH, SETTINGS_MODULE_PATH, SETTINGS_PATH, devSignIn, settingsModule, settingsPage } from './settings-page';
import { LocalScheduler } from './scheduler';

/**
 * The local runtime's HTTP front door: API Gateway (routes, JWT authorizer)
 * and Lambda Function URLs (webhooks) for every function of the manifest, plus
 * the local AWS stand-ins under `/_local/`, and the HR app's settings page
 * (`/settings/integrations`, with its local-only dev sign-in).
 */

/** Lambda's synchronous payload limit; larger requests never reach a handler in AWS either. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

export interface LocalServerOptions {
  root: string;
  functions: readonly FunctionSpec[];
  host: string;
  port: number;
  jwtSecret: string;
  eventBusName: string;
  scheduler: boolean;
  /** Sandbox providers served under `/sandbox/` (never deployed). */
  sandbox?: SandboxMount;
  /** Runs the local TTL sweep now (`POST /_local/ttl-sweep`); returns how many items it deleted. */
  sweepTtl?: () => Promise<number>;
  /** Runs once the port is known and before any handler module is imported (sets their environment). */
  beforeLoad?: (url: string) => void;
  log?: (line: string) => void;
}

export interface LocalServer {
  url: string;
  bus: LocalEventBus;
  scheduler: LocalScheduler;
  /**
   * Shutdown, first step: new work is refused (503 `shutting_down`), no bus
   * delivery or scheduled run starts; the work under way goes on, and what it
   * calls back into here (the sandbox providers, the EventBridge endpoint)
   * is still served.
   */
  stopAccepting(): void;
  /** Resolves once the work under way (requests, bus deliveries, jobs) is done, or at `deadline` (epoch ms) with what still runs. */
  settle(deadline: number): Promise<string[]>;
  /** The deadline passed: what still runs is given up (see LocalEventBus.abandon). */
  abandon(): void;
  /** Stops listening and drops every connection; a server still accepting drains first (up to DEFAULT_DRAIN_MS). */
  close(): Promise<void>;
}

/** How long a shutdown lets the work under way finish before giving up on it. */
export const DEFAULT_DRAIN_MS = 10_000;

/**
 * What the runtime's own work calls back into: the providers (sandbox) and
 * EventBridge. In AWS they stay up while a function finishes; here they are
 * served until the very end of a shutdown, or that work would fail because
 * the runtime is stopping.
 */
const servesRunningWork = (path: string) => path.startsWith('/sandbox/') || /^\/_local\/eventbridge\/?$/.test(path);

/** The part of the sandbox the server needs: one request in, one response out. */
export interface SandboxMount {
  handle(request: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: Record<string, string>;
    body: Buffer;
  }): Promise<{ status: number; headers: Record<string, string>; body: string }>;
}

class RequestTooLargeError extends Error {}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > MAX_REQUEST_BYTES) return reject(new RequestTooLargeError());
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new RequestTooLargeError());
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: unknown, contentType = 'application/json; charset=utf-8') {
  response.writeHead(statusCode, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

const envelopeError = (code: string, message: string) => ({ success: false, error: { code, message } });

function joinHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headersDistinct)) {
    if (value) headers[name] = value.join(',');
  }
  return headers;
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let ready: { router: Router<LoadedFunction>; webhooks: Map<string, LoadedFunction> } | undefined;
  let bus: LocalEventBus | undefined;
  let scheduler: LocalScheduler | undefined;
  let stopping = false;
  // Built once at start (esbuild, well under a second); requests for it wait for the build.
  const settingsComponent = settingsModule(options.root, log);
  /** Requests under way (not the ones serving running work), with what each is. */
  const requests = new Map<Promise<void>, string>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://local');
    const method = request.method ?? 'GET';
    if (!ready || !bus || !scheduler) return sendJson(response, 503, envelopeError('starting', 'The local runtime is starting'));

    let body: Buffer;
    try {
      body = await readBody(request);
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        response.setHeader('connection', 'close');
        return sendJson(response, 413, envelopeError('payload_too_large', `Request exceeds ${MAX_REQUEST_BYTES} bytes`));
      }
      throw error;
    }
    const incoming: IncomingRequest = {
      method,
      rawPath: url.pathname,
      rawQueryString: url.search.replace(/^\?/, ''),
      headers: joinHeaders(request),
      body,
      sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
    };

    if (method === 'POST' && url.pathname === '/_local/ttl-sweep' && options.sweepTtl) {
      return sendJson(response, 200, { deleted: await options.sweepTtl() });
    }
    if (method === 'POST' && url.pathname === DEV_SIGN_IN_PATH) return send(response, await devSignIn(incoming.headers['content-type'], body, options.jwtSecret));
    if (url.pathname.startsWith('/_local/')) return handleLocalControl(incoming, response, bus, scheduler);
    if (method === 'GET' && url.pathname === SETTINGS_PATH) return send(response, settingsPage());
    if (method === 'GET' && url.pathname === SETTINGS_MODULE_PATH) return send(response, await settingsComponent());
    if (options.sandbox && url.pathname.startsWith('/sandbox/')) {
      const answer = await options.sandbox.handle({
        method,
        path: url.pathname.slice('/sandbox'.length),
        query: url.searchParams,
        headers: incoming.headers,
        body,
      });
      return send(response, answer);
    }

    const webhook = ready.webhooks.get(url.pathname);
    if (webhook) {
      if (method !== 'POST' && method !== 'GET') return sendJson(response, 405, envelopeError('method_not_allowed', 'Use POST'));
      return respond(response, await webhook.invoke(functionUrlEvent(incoming)));
    }

    const lookup = ready.router.lookup(method, url.pathname);
    if (lookup.kind !== 'match') {
      return sendJson(response, 404, envelopeError('not_found', `No route for ${method} ${url.pathname}`));
    }
    const { target, routeKey, pathParameters } = lookup.match;
    const trigger = target.spec.trigger;
    let claims: JwtClaims | undefined;
    if (trigger.kind === 'http' && trigger.auth === 'jwt') {
      const verified = await verifyLocalToken(options.jwtSecret, incoming.headers.authorization);
      // The JWT authorizer answers 401 before the function runs.
      if (!verified) return sendJson(response, 401, envelopeError('unauthorized', 'A valid bearer token is required'));
      claims = verified as JwtClaims;
    }
    respond(response, await target.invoke(httpApiEvent(incoming, { routeKey, pathParameters, ...(claims ? { claims } : {}) })));
  }

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const internal = servesRunningWork(path);
    if (stopping && !internal) {
      response.setHeader('connection', 'close');
      return sendJson(response, 503, envelopeError('shutting_down', 'The local runtime is stopping'));
    }
    const started = Date.now();
    const work = handle(request, response)
      .catch((error: unknown) => {
        log(`[local] ${request.method} ${request.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
        if (!response.headersSent) sendJson(response, 500, envelopeError('internal_error', 'Internal Server Error'));
        else response.end();
      })
      .finally(() => {
        if (process.env.LOCAL_ACCESS_LOG === 'on') {
          log(`[local] ${request.method} ${path} ${response.statusCode} ${Date.now() - started}ms`);
        }
      });
    if (internal) return;
    requests.set(work, `${request.method} ${path}`);
    void work.finally(() => requests.delete(work));
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const displayHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  const url = `http://${displayHost}:${port}`;
  options.beforeLoad?.(url);

  const loaded = await loadFunctions(options.root, options.functions);
  bus = new LocalEventBus(options.eventBusName, loaded, { log });
  scheduler = new LocalScheduler(loaded, (job, error) =>
    log(`[local] scheduled job ${job} failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  if (options.scheduler) scheduler.start();
  const webhooks = new Map<string, LoadedFunction>();
  for (const fn of loaded) if (fn.spec.trigger.kind === 'webhook') webhooks.set(fn.spec.trigger.path, fn);
  ready = { router: new Router(loaded), webhooks };

  const readyBus = bus;
  const readyScheduler = scheduler;
  const running = () => [...requests.values(), ...readyBus.deliveries(), ...readyScheduler.runningJobs().map((job) => `job ${job}`)];
  const stopAccepting = () => {
    stopping = true;
    readyScheduler.pause();
    readyBus.stopDelivering();
    // Idle keep-alive connections would otherwise bring new requests only to refuse them.
    server.closeIdleConnections();
  };
  const settle = async (deadline: number) => {
    while (running().length > 0 && Date.now() < deadline) {
      await settlesBy(Promise.allSettled([...requests.keys(), readyBus.idle(), readyScheduler.idle()]), deadline);
    }
    return running();
  };
  return {
    url,
    bus: readyBus,
    scheduler: readyScheduler,
    stopAccepting,
    settle,
    abandon: () => readyBus.abandon(),
    close: async () => {
      if (!stopping) {
        stopAccepting();
        if ((await settle(Date.now() + DEFAULT_DRAIN_MS)).length > 0) readyBus.abandon();
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function send(response: ServerResponse, answer: { status: number; headers: Record<string, string>; body: string }): void {
  response.writeHead(answer.status, answer.headers);
  response.end(answer.body);
}

function respond(response: ServerResponse, result: unknown): void {
  const mapped = toHttpResponse(result as Parameters<typeof toHttpResponse>[0]);
  const headers: Record<string, string | string[]> = { ...mapped.headers };
  if (mapped.cookies.length > 0) headers['set-cookie'] = mapped.cookies;
  response.writeHead(mapped.statusCode, headers);
  response.end(mapped.body);
}

async function handleLocalControl(
  request: IncomingRequest,
  response: ServerResponse,
  bus: LocalEventBus,
  scheduler: LocalScheduler,
): Promise<void> {
  const { method, rawPath } = request;
  if (method === 'POST' && /^\/_local\/eventbridge\/?$/.test(rawPath)) {
    if (request.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
      return sendJson(response, 400, { __type: 'UnknownOperationException' }, 'application/x-amz-json-1.1');
    }
    let body: unknown;
    try {
      body = JSON.parse(request.body.toString('utf8'));
    } catch {
      return sendJson(response, 400, { __type: 'SerializationException' }, 'application/x-amz-json-1.1');
    }
    const result = bus.putEvents(body);
    return sendJson(response, result.statusCode, result.body, 'application/x-amz-json-1.1');
  }
  if (method === 'GET' && rawPath === '/_local/events') return sendJson(response, 200, { events: bus.recentEvents() });
  if (method === 'GET' && rawPath === '/_local/dead-letters') return sendJson(response, 200, { deadLetters: bus.deadLetters() });
  if (method === 'GET' && rawPath === '/_local/jobs') return sendJson(response, 200, { jobs: scheduler.jobNames() });
  const job = /^\/_local\/jobs\/([a-z0-9-]+)$/.exec(rawPath);
  if (method === 'POST' && job?.[1]) {
    if (!scheduler.jobNames().includes(job[1])) return sendJson(response, 404, envelopeError('not_found', `No job ${job[1]}`));
    const result = await scheduler.run(job[1]);
    return sendJson(response, 200, { success: true, data: result });
  }
  if (method === 'GET' && rawPath === '/_local/health') return sendJson(response, 200, { status: 'ok' });
  return sendJson(response, 404, envelopeError('not_found', `No local control endpoint ${method} ${rawPath}`));
}

