/**
 * Errors the API turns into the documented envelope. Anything that is not an
 * AppError becomes a 500 whose message never reveals internals.
 */

/**
 * Every error code the API answers, with the HTTP status it comes with. This
 * is the one list: the OpenAPI document groups its error codes by status from
 * it, so a new code is documented where it is added.
 */
export const errorCodeStatuses = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  /** Completing a reconnect: the provider account signed in to is not the integration's. Nothing changed. */
  account_mismatch: 409,
  /** Webhook test event: the integration has no push channel or webhook URL to test. */
  no_webhook_channel: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  provider_unavailable: 503,
  /** One of our own AWS dependencies (store, key, bus) was slow or throttled: retry in a moment. */
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorCodeStatuses;
export type ErrorStatus = (typeof errorCodeStatuses)[ErrorCode];

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string) => new AppError(400, 'bad_request', message);
export const validationFailed = (message: string) => new AppError(400, 'validation_failed', message);
export const unauthorized = (message = 'Authentication required') => new AppError(401, 'unauthorized', message);
export const forbidden = (message = 'Your role does not allow this action') => new AppError(403, 'forbidden', message);
export const notFound = (what: string) => new AppError(404, 'not_found', `${what} not found`);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const accountMismatch = (message: string) => new AppError(409, 'account_mismatch', message);
export const payloadTooLarge = (limitBytes: number) =>
  new AppError(413, 'payload_too_large', `Request body exceeds the ${limitBytes}-byte limit`);
export const unsupportedMediaType = () =>
  new AppError(415, 'unsupported_media_type', 'Request body must be application/json');

/** The provider rate limits the integration's account: retry after `retryAfterSeconds` when it said. */
export class RateLimitedError extends AppError {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(429, 'rate_limited', message);
    this.name = 'RateLimitedError';
  }
}

/** A conditional write lost a race (optimistic version or lease). */
export class VersionConflictError extends Error {
  constructor(message = 'The item changed since it was read') {
    super(message);
    this.name = 'VersionConflictError';
  }
}

/** A pagination cursor this API did not issue, or issued for another query. */
export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is not one this API issued');
    this.name = 'InvalidCursorError';
  }
}

/** A write reached an erased integration: erasure is a fence, the writer stops. */
export class IntegrationErasedError extends Error {
  constructor(readonly integrationId: string) {
    super(`Integration ${integrationId} was erased`);
    this.name = 'IntegrationErasedError';
  }
}
