import { build, type Metafile } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { manifest, type FunctionSpec } from '../../../infra/manifest';
import { errorMessage } from './child';
import type { BenchContext } from './types';

/**
 * Each manifest function bundled the way the CDK stack bundles it
 * (infra/constructs/manifest-function.ts: NodejsFunction, ESM, minified,
 * node22, `@aws-sdk/*` and `@smithy/*` external under the
 * sdkV3ExcludeSmithyPackages flag, the createRequire banner). The stack also
 * emits a source map; it is a separate file and not counted here.
 */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";
export const EXTERNALS = ['@aws-sdk/*', '@smithy/*'];

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

async function bundleOne(root: string, outDir: string, spec: FunctionSpec): Promise<Bundle> {
  const outfile = join(outDir, `${spec.name}.mjs`);
  try {
    const result = await build({
      absWorkingDir: root,
      entryPoints: [resolve(root, spec.entry)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      mainFields: ['module', 'main'],
      external: EXTERNALS,
      banner: { js: CREATE_REQUIRE_BANNER },
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

/** All manifest functions, bundled once per run into the work directory. */
export function bundleAll(context: BenchContext): Promise<Bundle[]> {
  return context.memo('bundles', async () => {
    const outDir = join(context.workDir, 'bundles');
    context.log(`bundling ${manifest.length} functions with esbuild`);
    const bundles: Bundle[] = [];
    // One at a time: esbuild already uses both cores per build.
    for (const spec of manifest) bundles.push(await bundleOne(context.root, outDir, spec));
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
