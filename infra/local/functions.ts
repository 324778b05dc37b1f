import { InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
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

/**
 * Every function shares this process, and so the one Powertools logger, while
 * their invocations overlap (a sync runs while requests are served and jobs
 * run). Like a Lambda execution environment running concurrent invocations,
 * the runtime gives each invocation its own InvokeStore context and says so
 * with AWS_LAMBDA_MAX_CONCURRENCY; Powertools then keeps the Lambda context
 * and appended keys per invocation instead of whichever invocation set them
 * last, so every line carries the name of the function that wrote it.
 *
 * The store is our own (AsyncLocalStorage, as the Lambda runtime's) because
 * the package's shared instance is whatever its first caller made: the AWS
 * SDK asks for it on the runtime's first DynamoDB call, before the variable is
 * set, and gets the single-invocation kind.
 */
class ConcurrentInvokeStore extends InvokeStoreBase {
  private readonly storage = new AsyncLocalStorage<Record<string | symbol, unknown>>();

  getContext() {
    return this.storage.getStore();
  }

  hasContext() {
    return this.storage.getStore() !== undefined;
  }

  get<T = unknown>(key: string | symbol): T | undefined {
    return this.storage.getStore()?.[key] as T | undefined;
  }

  set<T = unknown>(key: string | symbol, value: T): void {
    const context = this.storage.getStore();
    if (!context) throw new Error('No invocation context');
    if (this.isProtectedKey(key)) throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    context[key] = value;
  }

  run<T>(context: Record<string | symbol, unknown>, fn: () => T): T {
    return this.storage.run(context, fn);
  }
}

let invokeStore: ConcurrentInvokeStore | undefined;

function concurrentInvokeStore(): ConcurrentInvokeStore {
  if (!invokeStore) {
    invokeStore = new ConcurrentInvokeStore();
    // Where Powertools (and the Lambda runtime's other clients) look for it on every access.
    globalThis.awslambda = Object.assign(globalThis.awslambda ?? {}, { InvokeStore: invokeStore });
    // Set only once the store exists: Powertools refuses to log when the variable is set without one.
    process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
  }
  return invokeStore;
}

export async function loadFunction(root: string, spec: FunctionSpec): Promise<LoadedFunction> {
  const store = concurrentInvokeStore();
  const module: { handler?: unknown } = await import(pathToFileURL(join(root, spec.entry)).href);
  if (typeof module.handler !== 'function') throw new Error(`${spec.entry} does not export a handler function`);
  const handler = module.handler as LambdaHandler;
  return {
    spec,
    invoke: (event) => {
      const context = lambdaContext(spec.name, spec.timeoutSeconds);
      return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, () => handler(event, context));
    },
  };
}

export async function loadFunctions(root: string, specs: readonly FunctionSpec[]): Promise<LoadedFunction[]> {
  return Promise.all(specs.map((spec) => loadFunction(root, spec)));
}
