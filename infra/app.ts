import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { FunctionSpec } from './manifest';
import { IntegrationsStack } from './stack';

export const STACK_NAME = 'HrIntegrations';

export interface BuildAppOptions {
  /** Extra context (tests pass cdk.json's context, and `aws:cdk:bundling-stacks: []` to skip bundling). */
  context?: Record<string, unknown>;
  /** Defaults to `infra/manifest.ts`. */
  manifest?: readonly FunctionSpec[];
  /** Run the cdk-nag AwsSolutions pack at synth (default true). */
  nag?: boolean;
}

/**
 * The stack's region: context `region` (`-c region=eu-west-1`), else the region the CDK CLI resolved
 * from the AWS profile or environment (`CDK_DEFAULT_REGION`; the CLI falls back to us-east-1, so
 * `npx cdk synth` works offline). The table's customer-managed key makes the stack region-specific
 * (TableV2 renders its replica's key per region and cannot in a region-agnostic stack); the account
 * stays agnostic. Outside the CLI with neither set, it refuses to guess.
 */
export function resolveRegion(app: App): string {
  const fromContext: unknown = app.node.tryGetContext('region');
  const region = typeof fromContext === 'string' && fromContext !== '' ? fromContext : process.env.CDK_DEFAULT_REGION;
  if (!region) {
    throw new Error('No region: pass -c region=<aws-region> (the CDK CLI otherwise uses your AWS profile\'s region)');
  }
  return region;
}

/** Builds the app without side effects; synthesize it with `app.synth()` or `Template.fromStack(stack)`. */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: IntegrationsStack } {
  const app = new App(options.context ? { context: options.context } : {});
  const stack = new IntegrationsStack(app, STACK_NAME, {
    env: { region: resolveRegion(app) },
    description: 'HR platform integrations backend (OAuth connections, tokens, webhooks, sync)',
    ...(options.manifest ? { manifest: options.manifest } : {}),
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) buildApp().app.synth();
