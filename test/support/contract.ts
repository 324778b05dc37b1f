/**
 * The API's answers checked against the committed OpenAPI document: the
 * status must be one the route declares, and the body must match that
 * status's schema (envelope included), with ajv's JSON Schema 2020-12 (the
 * document's dialect). Two doors lead here, so every answer a test receives
 * is checked and a drifting one fails the test that received it:
 * - `startLocalProcess` installs `checkAnswersOf` around `fetch`: every
 *   answer an e2e test receives from the local runtime's `/api/…`;
 * - `call()` (test/support/api.ts) runs `handlerAnswerViolation`: every answer
 *   an integration test gets from a manifest handler it calls directly.
 * Outgoing webhook deliveries are checked against the document's `webhooks`
 * with `deliveryViolation`.
 *
 * Provider webhooks are not in the document (see infra/openapi/document.ts)
 * and are not checked here; a path under /api/ that no route serves must be
 * the runtime's 404 envelope. Validators are compiled on first use and kept
 * for the test file's process.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { IncomingHttpHeaders } from 'node:http';
import document from '../../infra/openapi/openapi.json' with { type: 'json' };
import { manifest } from '../../infra/manifest';
import { httpSpecs, loadHttpRoute, loadHttpRoutes, type HttpRoute } from '../../infra/openapi/routes';
import type { ApiRouteDescription } from '../../shared/http/api-handler';

interface HeaderDeclaration {
  required?: boolean;
}
interface ResponseDeclaration {
  headers?: Record<string, HeaderDeclaration | { $ref: string }>;
  content?: Record<string, unknown>;
}
type ResponseEntry = ResponseDeclaration | { $ref: string };
type Operations = Record<string, Record<string, { responses: Record<string, ResponseEntry> }>>;

const paths = document.paths as unknown as Operations;
const componentResponses = document.components.responses as unknown as Record<string, ResponseDeclaration>;

// The document is checked against the OpenAPI meta-schema once, in test/integration/openapi.test.ts:
// checking it again in every test file's process would cost more than all its validations.
const ajv = new Ajv2020({ strict: false, validateSchema: false });
addFormats(ajv);
// The whole document under one id, so a response schema's `#/components/…` references resolve.
ajv.addSchema(document, 'openapi');

const webhookPaths = new Set(manifest.flatMap((spec) => (spec.trigger.kind === 'webhook' ? [spec.trigger.path] : [])));

/** Templates as patterns; literal routes (`/export`) win over templated ones (`/{id}`). */
const routes = Object.keys(paths)
  .map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    parameters: (template.match(/\{/g) ?? []).length,
  }))
  .sort((a, b) => a.parameters - b.parameters);

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

const validators = new Map<string, ValidateFunction>();
function validatorFor(schemaPointer: string): ValidateFunction {
  let validate = validators.get(schemaPointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi#/${schemaPointer}` });
    validators.set(schemaPointer, validate);
  }
  return validate;
}

export interface Answer {
  method: string;
  /** The request URL's path, without the query. */
  path: string;
  status: number;
  headers: Headers;
  body: string;
}

const notFoundEnvelope = /^\{"success":false,"error":\{"code":"not_found","message":"[^"]*"\}\}$/;

/** The response the document declares for this route and status, and where it sits in the document (for its schema's pointer). */
function declaredResponse(template: string, method: string, status: number): { response: ResponseDeclaration; at: string[] } | undefined {
  const declared = paths[template]?.[method]?.responses[String(status)];
  if (!declared) return undefined;
  if (!('$ref' in declared)) return { response: declared, at: ['paths', template, method, 'responses', String(status)] };
  const name = declared.$ref.split('/').pop() ?? '';
  const response = componentResponses[name];
  return response && { response, at: ['components', 'responses', name] };
}

function headerViolation(response: ResponseDeclaration, headers: Headers): string | undefined {
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if ('required' in header && header.required && !headers.has(name)) return `the ${name} header is missing`;
  }
  const retryAfter = headers.get('retry-after');
  return retryAfter !== null && !/^\d+$/.test(retryAfter) ? `Retry-After is not a number of seconds: ${retryAfter}` : undefined;
}

function bodyViolation({ response, at }: { response: ResponseDeclaration; at: string[] }, answer: Answer): string | undefined {
  if (!response.content) return answer.body === '' ? undefined : `a body-less answer carried a body: ${answer.body.slice(0, 200)}`;
  const contentType = answer.headers.get('content-type') ?? '';
  if (!/^application\/json\b/.test(contentType)) return `content-type ${contentType} is not application/json`;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `the body is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const validate = validatorFor(pointer(...at, 'content', 'application/json', 'schema'));
  return validate(json) ? undefined : `${ajv.errorsText(validate.errors, { dataVar: 'body' })}; body ${answer.body.slice(0, 500)}`;
}

/** The documented route (its path template) that serves `method` on `path`; literal routes win over templated ones. */
const documentedTemplate = (method: string, path: string) =>
  routes.find(({ template, pattern }) => pattern.test(path) && paths[template]?.[method.toLowerCase()] !== undefined)?.template;

/** Why an answer of the route at `template` breaks the contract, or undefined when it keeps it. */
function routeAnswerViolation(template: string, answer: Answer): string | undefined {
  const method = answer.method.toLowerCase();
  const declared = declaredResponse(template, method, answer.status);
  if (!declared) {
    const statuses = Object.keys(paths[template]?.[method]?.responses ?? {}).join(', ');
    return `status ${answer.status} is not declared for ${method.toUpperCase()} ${template} (declared: ${statuses}); body ${answer.body.slice(0, 300)}`;
  }
  return headerViolation(declared.response, answer.headers) ?? bodyViolation(declared, answer);
}

/** Why the answer breaks the contract, or undefined when it keeps it. */
export function contractViolation(answer: Answer): string | undefined {
  if (webhookPaths.has(answer.path)) return undefined;
  const template = documentedTemplate(answer.method, answer.path);
  if (!template) {
    if (answer.status === 404 && notFoundEnvelope.test(answer.body)) return undefined;
    return `no route in the OpenAPI document serves it (new route? run npm run openapi), yet it answered ${answer.status} ${answer.body.slice(0, 200)}`;
  }
  return routeAnswerViolation(template, answer);
}

/** The manifest route each handler serves, by its declaration (null: a handler no manifest entry exports, such as a test's own). */
const servedRoutes = new Map<ApiRouteDescription, { method: string; template: string } | null>();
let everyRoute: Promise<HttpRoute[]> | undefined;

/**
 * Which manifest route exports the handler with this declaration. The route
 * the event names is tried first (importing one handler the test has most
 * likely imported already); only a miss imports every handler to compare.
 * A declaration without success answers is no manifest route's (the OpenAPI
 * test requires them of every one): a test's own handler, never looked up.
 */
async function servedRouteOf(declaration: ApiRouteDescription, event: APIGatewayProxyEventV2) {
  if (declaration.responses === undefined) return null;
  const known = servedRoutes.get(declaration);
  if (known !== undefined) return known;
  const method = event.requestContext.http.method;
  const template = documentedTemplate(method, event.rawPath);
  const named = httpSpecs.find((spec) => spec.trigger.method === method && spec.trigger.path === template);
  const candidates = named ? [await loadHttpRoute(named)] : [];
  if (candidates[0]?.route !== declaration) candidates.push(...(await (everyRoute ??= loadHttpRoutes())));
  const served = candidates.find((candidate) => candidate.route === declaration);
  const route = served ? { method: served.method, template: served.path } : null;
  servedRoutes.set(declaration, route);
  return route;
}

/** An answer as a Lambda handler returns it. */
export interface HandlerAnswer {
  statusCode: number;
  headers: Record<string, string | number | boolean>;
  body: string;
}

/**
 * Why the answer a handler gave to `event` breaks the contract of the
 * manifest route that exports it; undefined when it keeps it, or when the
 * handler is not a documented route (a provider webhook, a test's own
 * `apiHandler`).
 */
export async function handlerAnswerViolation(handler: object, event: APIGatewayProxyEventV2, answer: HandlerAnswer): Promise<string | undefined> {
  const declaration = (handler as { route?: ApiRouteDescription }).route;
  const served = declaration && (await servedRouteOf(declaration, event));
  if (!served) return undefined;
  const headers = new Headers(Object.entries(answer.headers).map(([name, value]): [string, string] => [name, String(value)]));
  return routeAnswerViolation(served.template, { method: served.method, path: event.rawPath, status: answer.statusCode, headers, body: answer.body });
}

/** A request our outgoing webhooks made, as the receiving end read it. */
export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

interface ParameterDeclaration {
  name: string;
  in: string;
  required?: boolean;
}
const webhooks = document.webhooks as unknown as Record<string, { post: { parameters: Array<{ $ref: string }> } }>;
const componentParameters = document.components.parameters as unknown as Record<string, ParameterDeclaration>;

/** Why an outgoing webhook delivery differs from the document's `webhooks` entry for its type (headers and body), or undefined. */
export function deliveryViolation(delivery: Delivery): string | undefined {
  if (!/^application\/json\b/.test(delivery.headers['content-type'] ?? '')) return `content-type ${delivery.headers['content-type']} is not application/json`;
  let json: { type?: unknown };
  try {
    json = JSON.parse(delivery.body) as { type?: unknown };
  } catch {
    return `the body is not JSON: ${delivery.body.slice(0, 200)}`;
  }
  const type = String(json.type);
  const documented = webhooks[type];
  if (!documented) return `no webhook is documented for type ${type} (new type? run npm run openapi)`;
  for (const { $ref } of documented.post.parameters) {
    const name = $ref.split('/').pop() ?? '';
    const parameter = componentParameters[name];
    const value = parameter && delivery.headers[parameter.name];
    if (!parameter || typeof value !== 'string') return `the ${parameter?.name ?? name} header is missing`;
    const validate = validatorFor(pointer('components', 'parameters', name, 'schema'));
    if (!validate(value)) return `the ${parameter.name} header ${ajv.errorsText(validate.errors, { dataVar: 'value' })}: ${value}`;
  }
  const validate = validatorFor(pointer('webhooks', type, 'post', 'requestBody', 'content', 'application/json', 'schema'));
  return validate(json) ? undefined : `${ajv.errorsText(validate.errors, { dataVar: 'body' })}; body ${delivery.body.slice(0, 500)}`;
}

const checkedOrigins = new Set<string>();
let installed = false;

/**
 * Checks every later `fetch` answer from `baseUrl`'s `/api/…` against the
 * document; a violation rejects the `fetch` with the reason, so the test
 * that made the request fails there.
 */
export function checkAnswersOf(baseUrl: string): void {
  checkedOrigins.add(new URL(baseUrl).origin);
  if (installed) return;
  installed = true;
  const unchecked = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const response = await unchecked(input, init);
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (!checkedOrigins.has(url.origin) || !url.pathname.startsWith('/api/')) return response;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const answer = { method, path: url.pathname, status: response.status, headers: response.headers, body: await response.clone().text() };
    const violation = contractViolation(answer);
    if (violation) throw new Error(`Contract violation: ${method} ${url.pathname} → ${response.status}: ${violation}`);
    return response;
  };
}
