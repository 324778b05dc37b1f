import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import {
  AppError,
  IntegrationErasedError,
  InvalidCursorError,
  RateLimitedError,
  VersionConflictError,
  badRequest,
  forbidden,
  payloadTooLarge,
  unsupportedMediaType,
  validationFailed,
} from '../domain/errors';
import { isAwsUnavailable, runWithDeadline } from '../deadline';
import { logger } from '../logging/logger';
import { ProviderError } from '../oauth/errors';
import { loadProviderCredentials } from '../oauth/provider-secrets';
import { failure } from './envelope';
import { principalFromEvent, type Principal } from './principal';
import { can, type Permission } from './rbac';

/** Largest JSON body an endpoint accepts (documented in the README). */
export const MAX_BODY_BYTES = 64 * 1024;

export type ApiResult = APIGatewayProxyStructuredResultV2;

interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  event: APIGatewayProxyEventV2;
  context: Context;
}

type Schema<T> = z.ZodType<T>;

/**
 * What a success answer carries: the zod schema of `data` in
 * `{success:true,data}`; `'redirect'` for a 302 with a `Location` and no
 * body; `{ unwrapped: schema }` for a JSON body sent as is, outside the
 * envelope (the OpenAPI document itself).
 */
export type SuccessResponse = z.ZodType | 'redirect' | { unwrapped: z.ZodType };

/**
 * Error statuses a route's domain can answer besides the ones every route
 * shares (the OpenAPI generator adds those: 400 for any input, 401 and 403
 * behind the JWT, 413, 415 with a body, 500). 429 and 503 carry Retry-After.
 */
export type DomainErrorStatus = 404 | 409 | 429 | 503;

/**
 * The contract half of a route, declared next to its parsing:
 *
 *   apiHandler({
 *     permission: 'integrations:read',
 *     summary: 'One integration',
 *     params: z.object({ id: integrationIdSchema }),
 *     responses: { 200: integrationViewSchema },
 *     errors: [404],
 *     handle: …,
 *   })
 *
 * `responses` and `errors` are documentation the OpenAPI document
 * (`npm run openapi`) and the e2e tests' response checks read from
 * `handler.route`; they are never evaluated when a request runs.
 */
interface ApiRouteSpec<P, Q, B> {
  /** One line for the OpenAPI operation; the manifest's description otherwise. */
  summary?: string;
  params?: Schema<P>;
  query?: Schema<Q>;
  body?: Schema<B>;
  /** Success answers by status, e.g. `{ 200: viewSchema }` or `{ 202: receiptSchema }`. */
  responses?: Readonly<Partial<Record<200 | 201 | 202 | 204 | 302, SuccessResponse>>>;
  errors?: readonly DomainErrorStatus[];
  /**
   * Headers beyond the envelope's that the handler itself reads (`request`,
   * e.g. Idempotency-Key) or sets on success (`response`, e.g. X-Next-Cursor):
   * documented, not parsed here; the handler keeps parsing what it reads.
   */
  headers?: { request?: Readonly<Record<string, z.ZodType>>; response?: Readonly<Record<string, z.ZodType>> };
}

interface AuthenticatedRoute<P, Q, B> extends ApiRouteSpec<P, Q, B> {
  permission: Permission;
  handle(input: RouteInput<P, Q, B> & { principal: Principal }): Promise<ApiResult>;
}

interface PublicRoute<P, Q, B> extends ApiRouteSpec<P, Q, B> {
  permission: 'public';
  handle(input: RouteInput<P, Q, B>): Promise<ApiResult>;
}

/** A route's declaration without its code: what `handler.route` exposes to the contract tooling. */
export type ApiRouteDescription = ApiRouteSpec<unknown, unknown, unknown> & { permission: Permission | 'public' };

/** A readable one-line summary of what was wrong with the input. */
export function summarizeIssues(where: string, error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : where;
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return `Invalid ${where}: ${parts.join('; ')}${more}`;
}

function parsePart<T>(where: string, schema: Schema<T> | undefined, value: unknown): T {
  if (!schema) return undefined as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationFailed(summarizeIssues(where, parsed.error));
  return parsed.data;
}

function rawBody(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  return text;
}

function parseJsonBody<B>(event: APIGatewayProxyEventV2, schema: Schema<B> | undefined): B {
  const text = rawBody(event);
  if (!schema) return undefined as B;
  let json: unknown = undefined;
  if (text !== undefined) {
    const contentType = event.headers['content-type'] ?? '';
    if (!/^application\/(.+\+)?json\b/i.test(contentType)) throw unsupportedMediaType();
    try {
      json = JSON.parse(text);
    } catch {
      throw badRequest('The request body is not valid JSON');
    }
  }
  return parsePart('body', schema, json ?? {});
}

/** How soon a caller may retry after one of our own AWS dependencies failed a call. */
const DEPENDENCY_RETRY_AFTER_SECONDS = 1;

const withRetryAfter = (answer: ApiResult, seconds: number | undefined): ApiResult =>
  seconds === undefined ? answer : { ...answer, headers: { ...answer.headers, 'retry-after': String(seconds) } };

/** Maps anything thrown to the envelope; internals are logged, never returned. */
export function errorResponse(error: unknown, context: Context): ApiResult {
  if (error instanceof AppError) {
    if (error.status >= 500) logger.error('Request failed', { error });
    else logger.info('Request rejected', { status: error.status, errorCode: error.code, reason: error.message });
    return withRetryAfter(failure(error.status, error.code, error.message), error instanceof RateLimitedError ? error.retryAfterSeconds : undefined);
  }
  if (error instanceof InvalidCursorError) return failure(400, 'bad_request', error.message);
  // Erased while the request ran: as gone as an unknown integration.
  if (error instanceof IntegrationErasedError) return failure(404, 'not_found', 'Integration not found');
  if (error instanceof ProviderError && error.transient) {
    // A provider that is down, slow or rate limiting: the caller may retry, and is told when if the provider said.
    logger.warn('Provider unavailable', { providerId: error.providerId, errorCode: error.code });
    return withRetryAfter(failure(503, 'provider_unavailable', `${error.providerId} is not answering right now (${error.code}); retry later`), error.retryAfterSeconds);
  }
  if (isAwsUnavailable(error)) {
    // Our own store, key or bus was slow or throttled: worth a retry in a moment, and worth an operator's look.
    logger.error('Dependency unavailable', { error });
    return withRetryAfter(failure(503, 'service_unavailable', 'The service is briefly unavailable; retry in a moment'), DEPENDENCY_RETRY_AFTER_SECONDS);
  }
  if (error instanceof VersionConflictError) {
    return failure(409, 'conflict', 'The integration changed at the same time; retry the request');
  }
  logger.error('Unhandled error', { error });
  return failure(500, 'internal_error', `An unexpected error occurred (reference ${context.awsRequestId})`);
}

/**
 * One API Gateway route as a Lambda handler: authenticate (claims from the
 * JWT authorizer), authorise (RBAC), parse path, query and body with zod,
 * call the domain, and shape the envelope.
 */
export function apiHandler<P = undefined, Q = undefined, B = undefined>(
  route: AuthenticatedRoute<P, Q, B> | PublicRoute<P, Q, B>,
) {
  const lambda = middy<APIGatewayProxyEventV2, ApiResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) =>
      runWithDeadline(context.getRemainingTimeInMillis(), async () => {
        try {
          await loadProviderCredentials();
          if (route.permission === 'public') return await route.handle(readInput(route, event, context));
          const principal = authorise(event, route.permission);
          return await route.handle({ ...readInput(route, event, context), principal });
        } catch (error) {
          return errorResponse(error, context);
        }
      }),
    );
  // The declaration rides on the handler so the contract can be read without running it.
  const { handle: _handle, ...declaration } = route;
  return Object.assign(lambda, { route: declaration as ApiRouteDescription });
}

function authorise(event: APIGatewayProxyEventV2, permission: Permission): Principal {
  const principal = principalFromEvent(event);
  logger.appendKeys({ orgId: principal.orgId, userId: principal.userId, role: principal.role });
  if (!can(principal.role, permission)) throw forbidden();
  return principal;
}

function readInput<P, Q, B>(
  spec: ApiRouteSpec<P, Q, B>,
  event: APIGatewayProxyEventV2,
  context: Context,
): RouteInput<P, Q, B> {
  return {
    params: parsePart('path', spec.params, event.pathParameters ?? {}),
    query: parsePart('query', spec.query, event.queryStringParameters ?? {}),
    body: parseJsonBody(event, spec.body),
    event,
    context,
  };
}
