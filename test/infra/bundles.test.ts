import { build } from 'esbuild';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/constructs/bundling';
import { findFunction, manifest, type FunctionSpec } from '../../infra/manifest';

/**
 * Each Lambda bundles only what its handler imports: webhook functions must
 * carry no token vault (Encryption SDK, KMS) and no provider API client.
 * Bundled as the stack does (infra/constructs/bundling.ts), inspecting the inputs.
 */
const root = join(import.meta.dirname, '..', '..');

async function bundledInputs(spec: FunctionSpec): Promise<string[]> {
  const result = await build({
    ...esbuildOptions(root, spec),
    entryPoints: [join(root, spec.entry)],
    write: false,
    metafile: true,
    logLevel: 'silent',
    outdir: '/tmp/bundle-check',
  });
  return Object.keys(result.metafile.inputs);
}

describe('function bundles', () => {
  const webhooks = manifest.filter((spec) => spec.trigger.kind === 'webhook');

  it.each(webhooks.map((spec) => [spec.name, spec] as const))('%s imports no vault and no provider API client', async (_name, spec) => {
    const inputs = await bundledInputs(spec);
    expect(inputs.filter((input) => /shared\/crypto\/|@aws-crypto|shared\/providers\/[^/]+\/client\.ts|shared\/store\/tokens\.ts/.test(input))).toEqual([]);
    expect(inputs.length).toBeGreaterThan(5);
  });

  it('the token vault is bundled where tokens are sealed (oauth-callback), proving the check can see it', async () => {
    const oauthCallback = findFunction('oauth-callback');
    expect(oauthCallback).toBeDefined();
    const inputs = oauthCallback ? await bundledInputs(oauthCallback) : [];
    expect(inputs.some((input) => input.includes('shared/crypto/vault.ts'))).toBe(true);
  });
});
