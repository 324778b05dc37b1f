import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SANDBOX_PREFIX } from './clients';
import type { SandboxResponse } from './http';
import { Sandbox } from './sandbox';

export { SANDBOX_PREFIX };
const MAX_BODY_BYTES = 6 * 1024 * 1024;

/** The sandbox path of a request path (`/sandbox/slack/…` → `/slack/…`), or undefined when it is not under the prefix. */
export function toSandboxPath(pathname: string, prefix: string = SANDBOX_PREFIX): string | undefined {
  if (pathname === prefix) return '/';
  if (pathname.startsWith(`${prefix}/`)) return pathname.slice(prefix.length);
  return undefined;
}

export function writeSandboxResponse(response: ServerResponse, result: SandboxResponse): void {
  if (response.destroyed) return;
  response.writeHead(result.status, result.headers);
  response.end(result.body);
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headersDistinct)) if (value) headers[name] = value.join(',');
  return headers;
}

export interface SandboxServer {
  /** e.g. `http://127.0.0.1:54321/sandbox` */
  url: string;
  sandbox: Sandbox;
  close(): Promise<void>;
}

/** A standalone HTTP server with the sandbox mounted under `/sandbox` (tests, or running the fakes alone). */
export async function startSandboxServer(options: { host?: string; port?: number; sandbox?: Sandbox } = {}): Promise<SandboxServer> {
  const host = options.host ?? '127.0.0.1';
  const owned = options.sandbox === undefined;
  const sandbox = options.sandbox ?? new Sandbox();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const path = toSandboxPath(url.pathname);
    const body = await readBody(request);
    if (path === undefined) {
      return writeSandboxResponse(response, { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `Not found: the sandbox is under ${SANDBOX_PREFIX}/` });
    }
    if (!body) return writeSandboxResponse(response, { status: 413, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Payload Too Large' });
    const result = await sandbox.handle({ method: request.method ?? 'GET', path, query: url.searchParams, headers: headersOf(request), body });
    writeSandboxResponse(response, result);
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) {
        response.end();
        return;
      }
      writeSandboxResponse(response, {
        status: 500,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ error: 'sandbox_internal_error', message: error instanceof Error ? error.message : String(error) }),
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const displayHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${displayHost}:${port}${SANDBOX_PREFIX}`,
    sandbox,
    close: async () => {
      if (owned) await sandbox.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
