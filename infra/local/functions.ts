import type { Context } from 'aws-lambda';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionSpec } from '../manifest';
import { lambdaContext } from './lambda-events';

/** A loaded Lambda handler of the manifest, invoked in process as Lambda would. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LoadedFunction {
  spec: FunctionSpec;
  invoke(event: unknown): Promise<unknown>;
}

export async function loadFunction(root: string, spec: FunctionSpec): Promise<LoadedFunction> {
  const module: { handler?: unknown } = await import(pathToFileURL(join(root, spec.entry)).href);
  if (typeof module.handler !== 'function') throw new Error(`${spec.entry} does not export a handler function`);
  const handler = module.handler as LambdaHandler;
  return {
    spec,
    invoke: (event) => handler(event, lambdaContext(spec.name, spec.timeoutSeconds)),
  };
}

export async function loadFunctions(root: string, specs: readonly FunctionSpec[]): Promise<LoadedFunction[]> {
  return Promise.all(specs.map((spec) => loadFunction(root, spec)));
}
