import * as z from 'zod';

/** What the sandbox receives: the path is the part after the `/sandbox` mount point. */
export interface SandboxRequest {
  method: string;
  /** e.g. `/slack/slack/api/chat.postMessage` */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names; repeated headers joined with `,`. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface SandboxResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...headers },
    body: JSON.stringify(body),
  };
}

export function htmlResponse(status: number, html: string, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      ...NO_STORE,
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
    body: html,
  };
}

export function textResponse(status: number, text: string, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: text };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...headers }, body: '' };
}

export function redirectResponse(location: string): SandboxResponse {
  return { status: 302, headers: { location, ...NO_STORE, 'content-type': 'text/html; charset=utf-8' }, body: '' };
}

/** `base` with `params` appended to its query (existing query parameters are kept). */
export function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
  return url.toString();
}

/** First value of each parameter, like most OAuth servers read them. */
export function paramsRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of params) if (!(name in out)) out[name] = value;
  return out;
}

export type ParsedBody =
  | { kind: 'empty' }
  | { kind: 'form'; params: Record<string, string> }
  | { kind: 'json'; value: unknown }
  | { kind: 'invalid-json'; text: string }
  | { kind: 'text'; text: string };

export function mediaType(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function parseBody(request: Pick<SandboxRequest, 'headers' | 'body'>): ParsedBody {
  if (request.body.length === 0) return { kind: 'empty' };
  const text = request.body.toString('utf8');
  const type = mediaType(request.headers);
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', params: paramsRecord(new URLSearchParams(text)) };
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch {
      return { kind: 'invalid-json', text };
    }
  }
  return { kind: 'text', text };
}

/** What the request log keeps of a body. */
export function loggableBody(body: ParsedBody): unknown {
  switch (body.kind) {
    case 'empty':
      return null;
    case 'form':
      return body.params;
    case 'json':
      return body.value;
    case 'invalid-json':
    case 'text':
      return body.text;
  }
}

const jsonObjectSchema = z.record(z.string(), z.unknown());

/**
 * Parameters of an OAuth-style request: the query merged with a form (or, where
 * the provider accepts it, JSON object) body. Body values win. Non-string JSON
 * values are kept as they are.
 */
export function requestParams(request: SandboxRequest, options: { json: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...paramsRecord(request.query) };
  const body = parseBody(request);
  if (body.kind === 'form') Object.assign(out, body.params);
  if (body.kind === 'json' && options.json) {
    const parsed = jsonObjectSchema.safeParse(body.value);
    if (parsed.success) Object.assign(out, parsed.data);
  }
  return out;
}

/** Only the string-valued parameters (OAuth endpoints ignore anything else). */
export function stringParams(params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) if (typeof value === 'string') out[name] = value;
  return out;
}

export function bearerToken(headers: Record<string, string>): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

export interface ClientCredentials {
  clientId: string | undefined;
  clientSecret: string | undefined;
  via: 'basic' | 'params' | 'none';
}

function decodeBasicPart(part: string): string {
  // RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64.
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}

/** HTTP Basic first (RFC 6749 §2.3.1), then `client_id` / `client_secret` parameters. */
export function clientCredentials(headers: Record<string, string>, params: Record<string, string>): ClientCredentials {
  const match = /^Basic\s+([A-Za-z0-9+/=._~-]+)\s*$/i.exec(headers.authorization ?? '');
  if (match?.[1]) {
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) {
      return {
        clientId: decodeBasicPart(decoded.slice(0, colon)),
        clientSecret: decodeBasicPart(decoded.slice(colon + 1)),
        via: 'basic',
      };
    }
  }
  if (params.client_id !== undefined || params.client_secret !== undefined) {
    return { clientId: params.client_id, clientSecret: params.client_secret, via: 'params' };
  }
  return { clientId: undefined, clientSecret: undefined, via: 'none' };
}

/** An absolute http(s) URL without a fragment, as every provider requires for redirect URIs. */
export function isValidRedirectUri(value: string | undefined): value is string {
  if (!value) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '' && url.host !== '';
  } catch {
    return false;
  }
}
