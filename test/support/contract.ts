/**
 * The API's answers checked against the committed OpenAPI document: the
 * status must be one the route declares, and the body must match that
 * status's schema (envelope included), with ajv's JSON Schema 2020-12 (the
 * document's dialect). `startLocalProcess` installs `checkAnswersOf` for
 * every runtime it starts, so every answer an e2e test receives from
 * `/api/…`, whichever helper or plain `fetch` asked, is checked, and a
 * drifting answer fails the test that received it.
 *
 * Provider webhooks are not in the document (see infra/openapi/document.ts)
 * and are not checked here; a path under /api/ that no route serves must be
 * the runtime's 404 envelope.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import document from '../../infra/openapi/openapi.json' with { type: 'json' };
import { manifest } from '../../infra/manifest';

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

const ajv = new Ajv2020({ strict: false });
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

/** Why the answer breaks the contract, or undefined when it keeps it. */
export function contractViolation(answer: Answer): string | undefined {
  if (webhookPaths.has(answer.path)) return undefined;
  const method = answer.method.toLowerCase();
  const route = routes.find(({ template, pattern }) => pattern.test(answer.path) && paths[template]?.[method] !== undefined);
  if (!route) {
    if (answer.status === 404 && notFoundEnvelope.test(answer.body)) return undefined;
    return `no route in the OpenAPI document serves it (new route? run npm run openapi), yet it answered ${answer.status} ${answer.body.slice(0, 200)}`;
  }
  const declared = declaredResponse(route.template, method, answer.status);
  if (!declared) {
    const statuses = Object.keys(paths[route.template]?.[method]?.responses ?? {}).join(', ');
    return `status ${answer.status} is not declared for ${method.toUpperCase()} ${route.template} (declared: ${statuses}); body ${answer.body.slice(0, 300)}`;
  }
  return headerViolation(declared.response, answer.headers) ?? bodyViolation(declared, answer);
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
