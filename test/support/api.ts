import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { httpApiEvent, lambdaContext, type JwtClaims } from '../../infra/local/lambda-events';
import type { IntegrationRecord } from '../../shared/domain/integration';
import { newIntegrationId } from '../../shared/store/integrations';

/** Builders for handler tests: real API Gateway v2 events, as the local runtime and AWS produce them. */
export interface CallOptions {
  method?: string;
  path?: string;
  routeKey?: string;
  pathParameters?: Record<string, string>;
  query?: string;
  body?: string;
  headers?: Record<string, string>;
  claims?: JwtClaims | null;
}

export const claimsFor = (orgId: string, role = 'admin', sub = 'user-1'): JwtClaims => ({ sub, org_id: orgId, role });

export function apiEvent(options: CallOptions): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/api/integrations';
  return httpApiEvent(
    {
      method,
      rawPath: path,
      rawQueryString: options.query ?? '',
      headers: { host: 'api.test', 'user-agent': 'vitest', ...options.headers },
      body: Buffer.from(options.body ?? ''),
      sourceIp: '203.0.113.7',
    },
    {
      routeKey: options.routeKey ?? `${method} ${path}`,
      ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
      ...(options.claims === null ? {} : { claims: options.claims ?? claimsFor('org-default') }),
    },
  );
}

type Handler = (event: APIGatewayProxyEventV2, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

export interface ParsedResponse {
  statusCode: number;
  headers: Record<string, string | number | boolean>;
  /** The envelope; `{}` for a body-less answer such as a redirect. */
  json: { success?: boolean; data?: unknown; error?: { code: string; message: string } };
  raw: string;
}

/**
 * Calls a handler with an API Gateway event built from `options`. The answer
 * of a manifest route is checked against the OpenAPI document, as the e2e
 * tests' `fetch` is: a status, envelope or body the document does not declare
 * fails the test that received it.
 */
export async function call(handler: Handler, options: CallOptions): Promise<ParsedResponse> {
  const event = apiEvent(options);
  const result = (await handler(event, lambdaContext('test', 10))) as APIGatewayProxyStructuredResultV2;
  const raw = result.body ?? '';
  const answer = { statusCode: result.statusCode ?? 200, headers: result.headers ?? {}, body: raw };
  // Loaded on the first call: a test file that only builds records or events does not compile the document.
  const { handlerAnswerViolation } = await import('./contract');
  const violation = await handlerAnswerViolation(handler, event, answer);
  if (violation) throw new Error(`Contract violation: ${event.requestContext.http.method} ${event.rawPath} → ${answer.statusCode}: ${violation}`);
  return { statusCode: answer.statusCode, headers: answer.headers, json: raw ? JSON.parse(raw) : {}, raw };
}

export const uniqueOrg = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

export function integrationRecord(orgId: string, overrides: Partial<IntegrationRecord> = {}): IntegrationRecord {
  const now = new Date().toISOString();
  return {
    id: newIntegrationId(),
    orgId,
    providerId: 'slack',
    status: 'active',
    healthStatus: 'healthy',
    healthReason: 'connected',
    healthChangedAt: now,
    externalAccountId: 'T0001',
    externalAccountName: 'Acme workspace',
    scopesGranted: ['channels:read', 'chat:write'],
    connectedAt: now,
    connectedBy: 'user-1',
    createdAt: now,
    updatedAt: now,
    version: 1,
    ...overrides,
  };
}
