/**
 * One outgoing webhook POST, and nothing else: the target is checked against
 * the network policy before any connection (an IP literal here, a name in
 * the guarded lookup, which also pins the socket to the address it checked),
 * no redirect is followed (node:http never does), no connection is reused,
 * the whole attempt is bounded in time, and the answer's body is never read
 * (only its status counts), so a hostile endpoint cannot make us hold or
 * store anything it sends.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { callBudgetMs } from '../deadline';
import { ForbiddenTargetError, checkUrlShape, guardedLookup, networkPolicy } from './ssrf';

/** How long one attempt may take, connect, TLS and the answer's status line together. */
export const ATTEMPT_TIMEOUT_MS = 10_000;

/** Why an attempt got no HTTP answer, in the attempt log's terms. */
export type NetworkErrorClass = 'forbidden_target' | 'timeout' | 'dns_failure' | 'connection_refused' | 'connection_reset' | 'tls_error' | 'network_error';

export type AttemptResult = { durationMs: number } & ({ statusCode: number } | { errorClass: NetworkErrorClass });

class AttemptTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

function errorClassOf(error: unknown): NetworkErrorClass {
  if (error instanceof ForbiddenTargetError) return 'forbidden_target';
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return 'network_error';
  if (code === 'ERR_FORBIDDEN_TARGET') return 'forbidden_target';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns_failure';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection_reset';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'tls_error';
  return 'network_error';
}

/** POSTs `body` to `target`; resolves with the status or the class of network error, never throws. */
export async function postWebhook(target: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
  const started = Date.now();
  const done = (outcome: { statusCode: number } | { errorClass: NetworkErrorClass }): AttemptResult => ({ ...outcome, durationMs: Date.now() - started });
  const policy = networkPolicy();
  let url: URL;
  try {
    url = checkUrlShape(target, policy);
  } catch (error) {
    return done({ errorClass: errorClassOf(error) });
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = callBudgetMs(ATTEMPT_TIMEOUT_MS);
  return new Promise<AttemptResult>((resolve) => {
    const request = send(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'hr-integrations-webhooks/1' },
      lookup: guardedLookup(policy),
      agent: false,
    });
    const timer = setTimeout(() => request.destroy(new AttemptTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    request.on('response', (response: IncomingMessage) => {
      clearTimeout(timer);
      resolve(done({ statusCode: response.statusCode ?? 0 }));
      response.destroy();
    });
    request.on('error', (error) => {
      clearTimeout(timer);
      resolve(done({ errorClass: errorClassOf(error) }));
    });
    request.end(body);
  });
}
