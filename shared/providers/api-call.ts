import type * as z from 'zod';
import { logger } from '../logging/logger';
import { oauthClient } from '../oauth/clients';
import { MalformedProviderResponseError, ProviderError } from '../oauth/errors';
import { providerFetch, type ProviderResponse } from '../oauth/http';
import type { ProviderOAuth } from '../oauth/types';

/**
 * Provider API calls with bounded retries, over `providerFetch`:
 * - a 429 (or a provider's own rate-limit answer) carrying Retry-After waits
 *   that long, unless it is longer than `maxRetryAfterSeconds`: then the call
 *   gives up at once and the error goes to the caller (who may schedule it);
 * - any other transient failure (5xx, timeout, network) backs off
 *   exponentially with full jitter;
 * - nothing else is retried (4xx, rejected, unauthorized: `withAccessToken`
 *   handles the one refresh-and-retry on 401);
 * - at most `maxAttempts` attempts in total.
 *
 * A call that acts (sends, creates) is not retried when no answer came (a
 * timeout, a dropped connection): the provider may have carried it out, and
 * a retry would send it twice. An answer (429, 5xx) says it did not.
 */

export interface RetryOptions {
  /** Attempts in total, the first included (default 3). */
  maxAttempts?: number;
  /** The longest Retry-After honoured; a longer one is not waited for (default 30). */
  maxRetryAfterSeconds?: number;
  /** Full-jitter backoff: uniform in [0, min(maxDelayMs, baseDelayMs * 2^retry)] (defaults 200 and 5000). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Replaceable in tests so nothing waits for real. */
  sleep?: (ms: number) => Promise<void>;
  /** Source of jitter in [0, 1); replaceable in tests. */
  random?: () => number;
}

export const DEFAULT_RETRY = {
  maxAttempts: 3,
  maxRetryAfterSeconds: 30,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
} as const;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A call the caller got wrong before anything was sent (bad header value, missing field…). */
export class InvalidProviderRequestError extends Error {
  constructor(
    readonly providerId: string,
    message: string,
  ) {
    super(`${providerId}: ${message}`);
    this.name = 'InvalidProviderRequestError';
  }
}

/** The provider has neither client credentials nor a sandbox in this environment. */
export class ProviderNotConfiguredError extends Error {
  constructor(readonly providerId: string) {
    super(`Provider ${providerId} is not configured (no client credentials and no SANDBOX_BASE_URL)`);
    this.name = 'ProviderNotConfiguredError';
  }
}

/** Full jitter: uniform in [0, min(cap, base * 2^retry)]. `retry` counts from 0. */
export function jitteredBackoffMs(retry: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const cap = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const random = options.random ?? Math.random;
  return Math.floor(random() * Math.min(cap, base * 2 ** retry));
}

/**
 * How long to wait before the next attempt after `error`, or undefined when it
 * must not be retried. `retry` counts the retries already made (0 for the first).
 */
export function retryDelayMs(error: unknown, retry: number, options: RetryOptions = {}): number | undefined {
  if (!(error instanceof ProviderError) || !error.transient) return undefined;
  if (error.retryAfterSeconds !== undefined) {
    const cap = options.maxRetryAfterSeconds ?? DEFAULT_RETRY.maxRetryAfterSeconds;
    return error.retryAfterSeconds > cap ? undefined : error.retryAfterSeconds * 1000;
  }
  return jitteredBackoffMs(retry, options);
}

/** Runs `operation` until it succeeds, fails for good, or runs out of attempts; `mayRetry` can veto a retry. */
export async function withRetries<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
  mayRetry: (error: unknown) => boolean = () => true,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? DEFAULT_RETRY.maxAttempts);
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation(attempt);
    } catch (error) {
      const delay = attempt < maxAttempts && mayRetry(error) ? retryDelayMs(error, attempt - 1, options) : undefined;
      if (delay === undefined) throw error;
      if (error instanceof ProviderError) {
        logger.debug('Provider call failed transiently; retrying', {
          providerId: error.providerId,
          errorCode: error.code,
          status: error.status,
          attempt,
          delayMs: delay,
        });
      }
      await sleep(delay);
    }
  }
}

export type ApiBody = { json: unknown } | { form: Record<string, string | undefined> };

export interface ApiRequest<T> {
  providerId: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  accessToken: string;
  body?: ApiBody;
  /**
   * Turns the response (any status providerFetch returned, i.e. not 429/5xx)
   * into the result; throws a ProviderError for the provider's error answers.
   */
  read: (response: ProviderResponse) => T;
  /**
   * The provider's own code for a 429 (`ratelimited`, `TooManyRequests`…):
   * providerFetch reports every 429 as `rate_limited` without its body.
   */
  rateLimitCode?: string;
  /** The call does something at the provider (sends, creates): never retried when its outcome is unknown. */
  acts?: boolean;
  /** Headers a provider wants on every call (Notion-Version). */
  headers?: Readonly<Record<string, string>>;
}

function encodeBody(body: ApiBody | undefined): { headers: Record<string, string>; body?: string } {
  if (body === undefined) return { headers: {} };
  if ('json' in body) return { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body.json) };
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body.form)) if (value !== undefined) form.set(name, value);
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() };
}

/** One provider API call, retried per `options` (see the top of this file). */
export function apiCall<T>(request: ApiRequest<T>, options: RetryOptions = {}): Promise<T> {
  const encoded = encodeBody(request.body);
  const init: RequestInit = {
    method: request.method,
    headers: { accept: 'application/json', authorization: `Bearer ${request.accessToken}`, ...request.headers, ...encoded.headers },
    ...(encoded.body !== undefined ? { body: encoded.body } : {}),
  };
  return withRetries(async () => {
    let response: ProviderResponse;
    try {
      response = await providerFetch(request.providerId, request.url, init);
    } catch (error) {
      if (request.rateLimitCode && error instanceof ProviderError && error.status === 429) {
        throw new ProviderError(error.providerId, request.rateLimitCode, 429, 'transient', error.retryAfterSeconds);
      }
      throw error;
    }
    return request.read(response);
  }, options, (error) => !(request.acts && error instanceof ProviderError && error.outcomeUnknown));
}

/** Parses a provider answer with `schema`; a mismatch is a MalformedProviderResponseError. */
export function parseProviderResponse<S extends z.ZodType>(providerId: string, schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MalformedProviderResponseError(providerId, what);
  return parsed.data;
}

/** The provider's hosts in force now: the real ones, or the sandbox's. */
export function providerHosts(providerId: string, oauth: ProviderOAuth): Readonly<Record<string, string>> {
  const client = oauthClient(providerId, oauth);
  if (!client) throw new ProviderNotConfiguredError(providerId);
  return client.hosts;
}

/** One base URL of a provider (e.g. google `www`), without a trailing slash. */
export function providerHost(providerId: string, oauth: ProviderOAuth, hostKey: string): string {
  const host = providerHosts(providerId, oauth)[hostKey];
  if (!host) throw new Error(`Provider ${providerId} has no host named ${hostKey}`);
  return host.replace(/\/+$/, '');
}

/** `/a/b` from raw segments, each percent-encoded (so an id cannot change the path). */
export const pathOf = (...segments: string[]): string => segments.map((segment) => `/${encodeURIComponent(segment)}`).join('');

/** Rejects CR, LF and NUL in a value bound for a header line (header injection). */
export function assertHeaderSafe(providerId: string, field: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new InvalidProviderRequestError(providerId, `${field} must not contain line breaks`);
}
