/**
 * The manifest's `http` routes with each handler's declaration
 * (`handler.route`), which the OpenAPI document is built from. Apart from the
 * document, so that what only needs to find a handler's route (the contract
 * check on integration tests' `call()`) loads no more than the handlers.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ApiRouteDescription } from '../../shared/http/api-handler';
import { manifest, type FunctionSpec, type HttpMethod } from '../manifest';

export interface HttpRoute {
  spec: FunctionSpec;
  method: HttpMethod;
  path: string;
  auth: 'jwt' | 'public';
  /** The handler's declaration; undefined when its handler does not come from `apiHandler`. */
  route: ApiRouteDescription | undefined;
}

const root = join(import.meta.dirname, '..', '..');

type HttpTrigger = Extract<FunctionSpec['trigger'], { kind: 'http' }>;

/** The `http` functions of the manifest, before their handlers are imported. */
export const httpSpecs = manifest.filter((spec): spec is FunctionSpec & { trigger: HttpTrigger } => spec.trigger.kind === 'http');

/** One `http` function with its handler's declaration (importing the handler runs no request). */
export async function loadHttpRoute(spec: (typeof httpSpecs)[number]): Promise<HttpRoute> {
  const module = (await import(pathToFileURL(join(root, spec.entry)).href)) as { handler?: { route?: ApiRouteDescription } };
  return { spec, method: spec.trigger.method, path: spec.trigger.path, auth: spec.trigger.auth, route: module.handler?.route };
}

/** Every `http` function of the manifest with its handler's declaration, in manifest order. */
export async function loadHttpRoutes(): Promise<HttpRoute[]> {
  const routes: HttpRoute[] = [];
  for (const spec of httpSpecs) routes.push(await loadHttpRoute(spec));
  return routes;
}
