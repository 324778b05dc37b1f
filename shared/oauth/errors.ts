/**
 * Provider failures, classified once so every caller reacts the same way:
 * a terminal grant error disconnects the integration, a transient one is
 * retried with backoff and degrades it, anything else is the caller's mistake.
 */
export const TERMINAL_GRANT_ERRORS = new Set([
  'invalid_grant',
  'invalid_refresh_token',
  'token_revoked',
  'account_inactive',
  'invalid_auth',
  'not_authed',
]);

export class ProviderError extends Error {
  constructor(
    readonly providerId: string,
    /** The provider's own error code (`name_taken`, `invalid_grant`, `TooManyRequests`, `403`…). */
    readonly code: string,
    readonly status: number,
    readonly kind: 'terminal' | 'transient' | 'rejected' | 'unauthorized',
    readonly retryAfterSeconds?: number,
    /** Known never to have reached the provider (the connection was refused). */
    readonly unsent = false,
  ) {
    super(`${providerId} answered ${status} ${code}`);
    this.name = 'ProviderError';
  }

  get terminal(): boolean {
    return this.kind === 'terminal';
  }

  get transient(): boolean {
    return this.kind === 'transient';
  }

  /** No answer came (a timeout, a dropped connection): the provider may have carried the request out. */
  get outcomeUnknown(): boolean {
    return this.kind === 'transient' && this.status === 0 && !this.unsent;
  }
}

/** A grant error from a token endpoint: terminal when the grant is gone, otherwise a rejection. */
export function grantError(providerId: string, code: string, status: number): ProviderError {
  return new ProviderError(providerId, code, status, TERMINAL_GRANT_ERRORS.has(code) ? 'terminal' : 'rejected');
}

/** A provider answer that does not match its documented shape. */
export class MalformedProviderResponseError extends Error {
  constructor(readonly providerId: string, what: string) {
    super(`${providerId} sent a malformed ${what}`);
    this.name = 'MalformedProviderResponseError';
  }
}

/** A short, loggable code for any failure: the provider's code, or the error's name. Never its message. */
export const errorCodeOf = (error: unknown): string =>
  error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown';
