import { build, type Metafile } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleAliases, esbuildOptions, externalsOf } from '../../../infra/constructs/bundling';
import { manifest, type FunctionSpec } from '../../../infra/manifest';
import { errorMessage } from './child';
import type { BenchContext } from './types';

/**
 * Manifest functions bundled with esbuild the way the CDK stack bundles them
 * (infra/constructs/bundling.ts: ESM, minified, node22, the createRequire
 * banner, the AWS SDK bundled but for the lazy externals, the aliases), or in
 * another configuration for comparison (section bundle-choice). The stack
 * also emits a source map; it is a separate file and not counted here.
 */

/** What differs between the configurations compared: externals (the same for every function, or by function) and aliases (absolute paths). */
export interface BundleConfig {
  /** Short id, used in file names and tables. */
  id: string;
  external: readonly string[] | ((spec: FunctionSpec) => readonly string[]);
  alias: Readonly<Record<string, string>>;
}

/** What the stack deploys. */
export const deployedConfig = (root: string): BundleConfig => ({ id: 'deployed', external: externalsOf, alias: bundleAliases(root) });

/** The way every function was bundled before issue 14: the runtime's AWS SDK (`@aws-sdk/*` and `@smithy/*` external), nothing aliased. */
export const REFERENCE_EXTERNALS: readonly string[] = ['@aws-sdk/*', '@smithy/*'];
export const REFERENCE_CONFIG: BundleConfig = { id: 'reference', external: REFERENCE_EXTERNALS, alias: {} };

export interface BundleInput {
  /** Relative to the repository root, e.g. `shared/crypto/vault.ts` or `node_modules/zod/v4/...`. */
  path: string;
  bytesInOutput: number;
}

export type Bundle =
  | {
      ok: true;
      spec: FunctionSpec;
      outfile: string;
      bytes: number;
      gzipBytes: number;
      inputs: BundleInput[];
      /** Packages the bundle imports at runtime (provided by the Lambda runtime). */
      externals: string[];
    }
  | { ok: false; spec: FunctionSpec; error: string };

export async function bundleOne(root: string, outDir: string, spec: FunctionSpec, config: BundleConfig): Promise<Bundle> {
  const outfile = join(outDir, config.id, `${spec.name}.mjs`);
  try {
    const result = await build({
      ...esbuildOptions(root, spec, { external: typeof config.external === 'function' ? config.external(spec) : config.external, alias: config.alias }),
      entryPoints: [resolve(root, spec.entry)],
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    const metafile: Metafile = result.metafile;
    const output = Object.values(metafile.outputs).find((entry) => entry.entryPoint !== undefined);
    if (!output) throw new Error('esbuild reported no output for the entry');
    const code = readFileSync(outfile);
    const inputs = Object.entries(output.inputs)
      .map(([path, input]) => ({ path, bytesInOutput: input.bytesInOutput }))
      .sort((a, b) => b.bytesInOutput - a.bytesInOutput);
    const externals = [...new Set(output.imports.filter((entry) => entry.external).map((entry) => entry.path))]
      .filter((path) => !path.startsWith('node:') && path !== 'module')
      .sort();
    return {
      ok: true,
      spec,
      outfile,
      bytes: code.length,
      gzipBytes: gzipSync(code, { level: 9 }).length,
      inputs,
      externals,
    };
  } catch (error) {
    return { ok: false, spec, error: errorMessage(error).split('\n')[0] ?? 'build failed' };
  }
}

/** All manifest functions, bundled once per run and configuration (default: as deployed) into the work directory. */
export function bundleAll(context: BenchContext, config: BundleConfig = deployedConfig(context.root)): Promise<Bundle[]> {
  return context.memo(`bundles ${config.id}`, async () => {
    const outDir = join(context.workDir, 'bundles');
    const { functions } = context.options;
    const specs = manifest.filter((spec) => !functions || functions.includes(spec.name));
    context.log(`bundling ${specs.length} functions with esbuild (${config.id})`);
    const bundles: Bundle[] = [];
    // One at a time: esbuild already uses both cores per build.
    for (const spec of specs) bundles.push(await bundleOne(context.root, outDir, spec, config));
    return bundles;
  });
}

/** `node_modules/@aws-crypto/serialize/build/...` → `@aws-crypto/serialize`; repository files stay as they are. */
export function packageOf(inputPath: string): string {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(inputPath);
  return match?.[1] ?? inputPath;
}

/** Output bytes per package (repository files grouped as `(repo) <top folder>`), largest first. */
export function bytesByPackage(inputs: readonly BundleInput[]): { name: string; bytes: number }[] {
  const totals = new Map<string, number>();
  for (const input of inputs) {
    const isRepo = !/(?:^|\/)node_modules\//.test(input.path);
    const name = isRepo ? `(repo) ${input.path.split('/').slice(0, 2).join('/')}` : packageOf(input.path);
    totals.set(name, (totals.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}
