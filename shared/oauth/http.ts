import { callBudgetMs } from '../deadline';
import { ProviderError } from './errors';

/**
 * The one place provider HTTP calls go through: a timeout on every call, the
 * body read as JSON when it is JSON, 429/5xx/network failures turned into
 * transient ProviderErrors (with Retry-After when given).
 */
export const PROVIDER_TIMEOUT_MS = 10_000;

export interface ProviderResponse {
  status: number;
  headers: Headers;
  json: unknown;
  text: string;
}

export function retryAfterSeconds(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

export async function providerFetch(providerId: string, url: string, init: RequestInit): Promise<ProviderResponse> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(callBudgetMs(PROVIDER_TIMEOUT_MS)) });
  } catch (error) {
    const code = error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'network_error';
    // A refused connection sent nothing; any other failure may have happened after the request went out.
    const refused = error instanceof Error && error.cause instanceof Error && 'code' in error.cause && error.cause.code === 'ECONNREFUSED';
    throw new ProviderError(providerId, code, 0, 'transient', undefined, refused);
  }
  const text = await response.text();
  let json: unknown;
  if (text !== '' && /json/i.test(response.headers.get('content-type') ?? '')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (response.status === 429) {
    throw new ProviderError(providerId, 'rate_limited', 429, 'transient', retryAfterSeconds(response.headers));
  }
  if (response.status >= 500) throw new ProviderError(providerId, `http_${response.status}`, response.status, 'transient');
  return { status: response.status, headers: response.headers, json, text };
}

export function formBody(fields: Record<string, string | undefined>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.set(name, value);
  return form;
}

export const basicAuth = (clientId: string, clientSecret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;

export function expiresAtFrom(expiresInSeconds: number | undefined, now: Date = new Date()): string | undefined {
  return expiresInSeconds === undefined ? undefined : new Date(now.getTime() + expiresInSeconds * 1000).toISOString();
}
