/**
 * The OpenAPI 3.1 document of the HTTP API, built from the two sources the
 * system already runs on: the manifest (every `http` trigger: method, path,
 * JWT or public) and each handler's declaration (`handler.route`: the zod
 * schemas of params, query, body and success answers, and the error statuses
 * its domain can answer). Nothing is written by hand, so the contract cannot
 * drift from the code: `npm run openapi` writes `infra/openapi/openapi.json`,
 * a test fails when that copy is stale, and the e2e tests check every answer
 * they receive against it.
 *
 * Provider webhooks (`webhook` triggers) are left out on purpose: they are
 * the providers' own protocols, served on Function URLs outside this API's
 * base URL, and nothing the HR platform calls. OpenAPI's `webhooks` describes
 * the opposite direction, the calls this system makes to its consumers: one
 * entry per outgoing event type, its body generated from the zod schema the
 * delivery code sends with, under the Standard Webhooks headers.
 */
import * as z from 'zod';
import { errorCodeStatuses, type ErrorCode, type ErrorStatus } from '../../shared/domain/errors';
import type { ApiRouteDescription, SuccessResponse } from '../../shared/http/api-handler';
import { errorEnvelopeSchema, successEnvelopeSchema } from '../../shared/http/envelope';
import { outgoingPayloadSchema, outgoingTypeOf } from '../../shared/outgoing/delivery';
import { outgoingEventTypes, type OutgoingEventType } from '../../shared/outgoing/store';
import type { HttpRoute } from './routes';

type JsonSchema = Record<string, unknown>;
type JsonObject = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect); request parts as accepted, answers as sent. */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // `unrepresentable: 'any'`: a z.custom check (refused keys such as __proto__) documents as "any value" and is still enforced in code.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });
  // `#/$defs/…` (a recursive or id-named schema) would not resolve once nested in the document: inline schemas only.
  if ('$defs' in rest) throw new Error(`A schema with $defs cannot be placed in the document: ${JSON.stringify(Object.keys(rest.$defs ?? {}))}`);
  return rest;
}

/** What each error status means, by name; its codes come from `errorCodeStatuses`. 429 and 503 say when to retry, when they know. */
const errorStatuses = {
  400: { name: 'BadRequest', description: 'The input is invalid; the message summarises what was wrong. Nothing changed.' },
  401: { name: 'Unauthorized', description: 'A missing, malformed, expired or forged bearer token.' },
  403: { name: 'Forbidden', description: "The caller's role lacks the permission (or the provider grant lacks a scope, named in the message)." },
  404: { name: 'NotFound', description: "Unknown, erased or another organisation's resource." },
  409: {
    name: 'Conflict',
    description:
      'The resource is not in a state that allows this, or changed at the same time. `account_mismatch`: a reconnect was completed with another provider account than the integration\'s; nothing changed. `no_webhook_channel`: a webhook test event on an integration with no push channel.',
  },
  413: { name: 'PayloadTooLarge', description: 'The body is over 64 KiB.' },
  415: { name: 'UnsupportedMediaType', description: 'A body that is not application/json.' },
  429: { name: 'RateLimited', description: 'The provider rate limits the account (Retry-After when it said how long), or the API throttles the caller.' },
  500: { name: 'InternalError', description: 'An unexpected error; the message carries a reference id, never internals.' },
  503: {
    name: 'Unavailable',
    description:
      '`provider_unavailable`: the provider is down or not answering in time; retry later (Retry-After when it said). `service_unavailable`: our own store or key service was slow or throttled; retry after Retry-After.',
  },
} as const satisfies Record<ErrorStatus, { name: string; description: string }>;

/** The error codes answered with `status`, in the order `errorCodeStatuses` lists them. */
const codesOf = (status: ErrorStatus) => (Object.keys(errorCodeStatuses) as ErrorCode[]).filter((code) => errorCodeStatuses[code] === status);

/** The statuses every route shares, derived from its declaration; domain statuses are added by the route itself. */
export function errorStatusesOf(route: ApiRouteDescription): ErrorStatus[] {
  const hasInput = route.params !== undefined || route.query !== undefined || route.body !== undefined;
  const statuses = new Set<ErrorStatus>([413, 429, 500, 503, ...(route.errors ?? [])]);
  if (hasInput) statuses.add(400);
  if (route.permission !== 'public') {
    statuses.add(401);
    statuses.add(403);
  }
  if (route.body !== undefined) statuses.add(415);
  return [...statuses].sort((a, b) => a - b);
}

const ref = (kind: 'schemas' | 'responses' | 'headers', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/**
 * API Gateway answers some requests itself, before any function runs, with
 * `{"message": …}`: its JWT authorizer's 401 and the stage throttle's 429.
 * The local runtime answers those with the envelope.
 */
const gatewayAnswered: ReadonlySet<number> = new Set([401, 429]);
const retryAfterStatuses: ReadonlySet<number> = new Set([429, 503]);

function errorResponseComponent(status: ErrorStatus): JsonObject {
  const { description } = errorStatuses[status];
  const envelope = { allOf: [ref('schemas', 'ErrorEnvelope'), { properties: { error: { properties: { code: { enum: codesOf(status) } } } } }] };
  return {
    description,
    ...(retryAfterStatuses.has(status) ? { headers: { 'Retry-After': ref('headers', 'RetryAfter') } } : {}),
    content: { 'application/json': { schema: gatewayAnswered.has(status) ? { oneOf: [envelope, ref('schemas', 'GatewayMessage')] } : envelope } },
  };
}

function successResponse(status: number, declared: SuccessResponse, headers: ApiRouteDescription['headers']): JsonObject {
  if (declared === 'redirect') {
    return { description: 'Redirects the browser', headers: { Location: { required: true, schema: { type: 'string', format: 'uri' } } } };
  }
  const schema = 'unwrapped' in declared ? declared.unwrapped : successEnvelopeSchema(declared);
  const set = Object.entries(headers?.response ?? {}).map(([name, header]) => [name, { schema: toJsonSchema(header, 'output') }]);
  return {
    description: status === 202 ? 'Accepted' : 'Success',
    ...(set.length > 0 ? { headers: Object.fromEntries(set) } : {}),
    content: { 'application/json': { schema: toJsonSchema(schema, 'output') } },
  };
}

/** Path and query schemas become one parameter per property; declared request headers one each. */
function parameters(route: ApiRouteDescription): JsonObject[] {
  const parts = [
    ['path', route.params],
    ['query', route.query],
  ] as const;
  const headers = Object.entries(route.headers?.request ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: !schema.safeParse(undefined).success,
    schema: toJsonSchema(schema, 'input'),
  }));
  const fromSchemas = parts.flatMap(([location, schema]) => {
    if (!schema) return [];
    const object = toJsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(object.properties ?? {}).map(([name, property]) => ({
      name,
      in: location,
      required: location === 'path' || (object.required ?? []).includes(name),
      schema: property,
    }));
  });
  return [...fromSchemas, ...headers];
}

const sentenceCase = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function operation(http: HttpRoute & { route: ApiRouteDescription }): JsonObject {
  const { spec, route } = http;
  const responses: JsonObject = {};
  for (const [status, declared] of Object.entries(route.responses ?? {})) {
    if (declared !== undefined) responses[status] = successResponse(Number(status), declared, route.headers);
  }
  for (const status of errorStatusesOf(route)) responses[String(status)] = ref('responses', errorStatuses[status].name);
  const params = parameters(route);
  return {
    operationId: spec.name,
    summary: route.summary ?? sentenceCase(spec.description.replace(/^[A-Z]+ \S+: /, '')),
    security: http.auth === 'jwt' ? [{ bearer: [] }] : [],
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: {
            // The body may be left out when `{}` is valid input (an absent body is read as `{}`).
            required: !route.body.safeParse({}).success,
            content: { 'application/json': { schema: toJsonSchema(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** What each outgoing event type tells the receiver. */
const outgoingSummaries = {
  connected: 'An integration was connected, or reconnected (`reconnected: true`)',
  disconnected: 'An integration was disconnected, by a person or because its grant died',
  health_changed: "An integration's health changed",
  alert: 'An alert was raised, for an integration or for the organisation',
  synced: 'A sync of an integration finished',
} as const satisfies Record<OutgoingEventType, string>;

/** The Standard Webhooks headers of every delivery attempt. */
const standardWebhookHeaders = {
  WebhookId: {
    name: 'webhook-id',
    description: 'The message id: the same for every attempt of one event to one endpoint, so deduplicate on it.',
    schema: { type: 'string', pattern: '^msg_[A-Za-z0-9]+$' },
  },
  WebhookTimestamp: {
    name: 'webhook-timestamp',
    description: 'When this attempt was signed, in epoch seconds; refuse one too far from your clock (replay protection).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
  },
  WebhookSignature: {
    name: 'webhook-signature',
    description:
      "`v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64-decoded part of the endpoint's `whsec_` secret; space-separated when there are several.",
    schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$' },
  },
} as const;

const busEventOf = (type: OutgoingEventType) => Object.entries(outgoingTypeOf).find(([, outgoing]) => outgoing === type)?.[0];

/** One `webhooks` entry per outgoing event type: what an endpoint subscribed to it receives. */
function outgoingWebhooks(): JsonObject {
  const entries = outgoingEventTypes.map((type) => [
    type,
    {
      post: {
        operationId: `event-${type.replaceAll('_', '-')}`,
        summary: outgoingSummaries[type],
        description:
          `Sent to every enabled endpoint of the organisation subscribed to \`${type}\` when \`${busEventOf(type)}\` is published, ` +
          'signed per Standard Webhooks with the endpoint\'s secret. `data` carries named fields only, never a token or secret.',
        parameters: Object.keys(standardWebhookHeaders).map((name) => ({ $ref: `#/components/parameters/${name}` })),
        requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(outgoingPayloadSchema(type), 'output') } } },
        responses: {
          '2XX': { description: 'Delivered: any 2xx ends the attempts (the body is not read).' },
          default: {
            description: 'Anything else (a redirect included), no answer within 10 seconds, or a network error: retried with backoff for 24 hours, then dead-lettered.',
          },
        },
      },
    },
  ]);
  return Object.fromEntries(entries);
}

export function openApiDocument(routes: readonly HttpRoute[], version: string): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const http of routes) {
    if (!http.route) throw new Error(`${http.spec.entry} does not export an apiHandler, so ${http.method} ${http.path} cannot be documented`);
    (paths[http.path] ??= {})[http.method.toLowerCase()] = operation({ ...http, route: http.route });
  }
  const used = new Set(routes.flatMap((http) => (http.route ? errorStatusesOf(http.route) : [])));
  return {
    openapi: '3.1.0',
    info: {
      title: 'HR integrations API',
      version,
      description:
        'OAuth connections to Slack, Google Workspace, Microsoft 365, Asana and Notion for an HR platform. Every answer is the envelope ' +
        '`{success:true,data}` or `{success:false,error:{code,message}}`. `webhooks` are the signed calls it makes to the ' +
        "organisation's registered event endpoints. Generated from the code by `npm run openapi`.",
    },
    paths,
    webhooks: outgoingWebhooks(),
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      parameters: Object.fromEntries(Object.entries(standardWebhookHeaders).map(([name, header]) => [name, { in: 'header', required: true, ...header }])),
      schemas: {
        ErrorEnvelope: toJsonSchema(errorEnvelopeSchema, 'output'),
        GatewayMessage: { type: 'object', description: 'Answered by API Gateway itself (JWT authorizer, stage throttle), never by a function', properties: { message: { type: 'string' } }, required: ['message'] },
      },
      headers: { RetryAfter: { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 0 } } },
      responses: Object.fromEntries(
        (Object.keys(errorStatuses).map(Number) as ErrorStatus[]).filter((status) => used.has(status)).map((status) => [errorStatuses[status].name, errorResponseComponent(status)]),
      ),
    },
  };
}
