import { jsonResponse, type SandboxResponse } from './http';

/** Google's API error shape `{error:{code,message,errors:[{message,domain,reason}],status}}`. */

const API_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

export function apiError(
  code: number,
  message: string,
  reason: string,
  /** `status: null` leaves the field out (Calendar's documented 410 body has none). */
  options: { domain?: string; detail?: string; location?: string; headers?: Record<string, string>; status?: string | null } = {},
): SandboxResponse {
  const error = {
    message: options.detail ?? message,
    domain: options.domain ?? 'global',
    reason,
    ...(options.location ? { locationType: 'header', location: options.location } : {}),
  };
  return jsonResponse(
    code,
    {
      error: {
        code,
        message,
        errors: [error],
        ...(options.status === null ? {} : { status: options.status ?? API_STATUS[code] ?? 'UNKNOWN' }),
      },
    },
    { 'content-type': 'application/json; charset=UTF-8', ...options.headers },
  );
}
