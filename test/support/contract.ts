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

const ajv = new Ajv2020({ strict: false, allErrors: true });
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

/** Why the answer breaks the contract, or undefined when it keeps it. */
export function contractViolation(answer: Answer): string | undefined {
  const method = answer.method.toLowerCase();
  if (webhookPaths.has(answer.path)) return undefined;
  const route = routes.find(({ template, pattern }) => pattern.test(answer.path) && paths[template]?.[method] !== undefined);
  if (!route) {
    return answer.status === 404 && notFoundEnvelope.test(answer.body) ? undefined : `no route in the OpenAPI document serves it, yet it answered ${answer.status} ${answer.body.slice(0, 200)}`;
  }
  const responses = paths[route.template]?.[method]?.responses ?? {};
  const declared = responses[String(answer.status)];
  if (!declared) return `status ${answer.status} is not declared for ${method.toUpperCase()} ${route.template} (declared: ${Object.keys(responses).join(', ')}); body ${answer.body.slice(0, 300)}`;
  const response = '$ref' in declared ? componentResponses[declared.$ref.split('/').pop() ?? ''] : declared;
  const responseAt = '$ref' in declared ? ['components', 'responses', declared.$ref.split('/').pop() ?? ''] : ['paths', route.template, method, 'responses', String(answer.status)];
  for (const [name, header] of Object.entries(response?.headers ?? {})) {
    if ('required' in header && header.required && !answer.headers.has(name)) return `the ${name} header is missing`;
  }
  const retryAfter = answer.headers.get('retry-after');
  if (retryAfter !== null && !/^\d+$/.test(retryAfter)) return `Retry-After is not a number of seconds: ${retryAfter}`;
  if (!response?.content) return answer.body === '' ? undefined : `a body-less answer carried a body: ${answer.body.slice(0, 200)}`;
  if (!/^application\/json\b/.test(answer.headers.get('content-type') ?? '')) return `content-type ${answer.headers.get('content-type')} is not application/json`;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `the body is not JSON: ${answer.body.slice(0, 200)}`;
  }
  const validate = validatorFor(pointer(...responseAt, 'content', 'application/json', 'schema'));
  if (validate(json)) return undefined;
  return `${ajv.errorsText(validate.errors, { dataVar: 'body' })}; body ${answer.body.slice(0, 500)}`;
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
