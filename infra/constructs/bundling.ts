import path from 'node:path';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import type { FunctionSpec } from '../manifest';

/**
 * How every manifest function is bundled. The stack (ManifestFunction) deploys
 * exactly this, and `npm run bench` (section `bundle-choice`) builds it side by
 * side with the previous way (`@aws-sdk/*` external) and each step on its own,
 * so every choice below is there because it measured faster to import, or
 * (the Secrets Manager client) to import and answer a first request:
 *
 * - The AWS SDK is bundled, minified and tree-shaken, rather than loaded from
 *   the runtime's copy as hundreds of separate files. It also pins the SDK
 *   version the tests ran with.
 * - Except the credential providers the default chain only reaches through
 *   dynamic imports when no credentials are in the environment: Lambda always
 *   puts them there, so they (and the STS/SSO clients behind them) would only
 *   be compiled, never run. They stay external: should one ever be needed it
 *   still resolves to the runtime's copy.
 * - Likewise the SDK's event stream codec: the protocol code imports it
 *   dynamically for operations with an event stream, and no operation of the
 *   clients bundled here (DynamoDB, EventBridge, KMS, Secrets Manager) has one.
 * - The Secrets Manager client is bundled only into the functions that read the
 *   provider credentials secret, which they do before their first request in
 *   every new container (`providerCredentials` in the manifest): there, loading
 *   the runtime's copy on that first request cost more than the whole bundle's
 *   import, and bundled it adds a few milliseconds. Every other function leaves
 *   it out: `shared/secrets-manager.ts` imports it on first use, which for them
 *   is rare (the cursor key) or never, so it is never compiled for nothing.
 * - The Encryption SDK comes from its ES module build, which esbuild can
 *   tree-shake (the package's `main` is CommonJS and re-exports every keyring:
 *   KMS, hierarchical with its DynamoDB client, RSA, caching), and asn1.js is
 *   replaced by a stub: it only DER-encodes ECDSA signatures, which the vault's
 *   signature-less suite never has (infra/constructs/shims/asn1-unused.ts).
 */

/** Lets an ESM bundle load CommonJS dependencies that call `require`. */
export const CREATE_REQUIRE_BANNER =
  "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

/** The default credential chain's providers that Lambda never reaches (see above). */
export const UNREACHED_CREDENTIAL_PROVIDERS: readonly string[] = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@smithy/credential-provider-imds',
];

/** The event stream codec, imported by the SDK only for operations that stream events, which none of ours do (see above). */
export const EVENT_STREAM_SERDE = '@smithy/core/event-streams';

/** Packages left out of every bundle (see above): reached only by dynamic imports that a Lambda never takes. */
export const LAZY_EXTERNALS: readonly string[] = [...UNREACHED_CREDENTIAL_PROVIDERS, EVENT_STREAM_SERDE];

/** Imported on first use; bundled only where that use comes with every cold start (see above). */
export const SECRETS_MANAGER_CLIENT = '@aws-sdk/client-secrets-manager';

/** What a function's access says about its bundle. */
export type BundledFunction = Pick<FunctionSpec, 'access'>;

/** The packages a function's bundle leaves out. */
export function externalsOf(fn: BundledFunction): string[] {
  return fn.access.providerCredentials ? [...LAZY_EXTERNALS] : [...LAZY_EXTERNALS, SECRETS_MANAGER_CLIENT];
}

/** Import paths replaced at bundling time, by repository-relative files. */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-crypto/client-node': 'node_modules/@aws-crypto/client-node/build/module/src/index.js',
  'asn1.js': 'infra/constructs/shims/asn1-unused.ts',
};

/** The esbuild settings shared by the stack and the bench (the bench's esbuild calls spread these). */
export const ESBUILD_TARGET = 'node22';
export const MAIN_FIELDS = ['module', 'main'];

/** `BUNDLE_ALIASES` with absolute paths, as esbuild takes them. */
export function bundleAliases(repoRoot: string): Record<string, string> {
  return Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [from, path.join(repoRoot, to)]));
}

/** The NodejsFunction `bundling` of a manifest function. */
export function lambdaBundling(repoRoot: string, fn: BundledFunction): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    minify: true,
    sourceMap: true,
    target: ESBUILD_TARGET,
    mainFields: MAIN_FIELDS,
    banner: CREATE_REQUIRE_BANNER,
    bundleAwsSDK: true,
    externalModules: externalsOf(fn),
    // `--alias:<from>=<to>`, one argument per alias (CDK passes `key=value` through).
    esbuildArgs: Object.fromEntries(Object.entries(bundleAliases(repoRoot)).map(([from, to]) => [`--alias:${from}`, to])),
  };
}

/**
 * The same bundling as esbuild build options, so the bench and the tests build
 * what the stack deploys for `fn` (the stack emits a source map besides;
 * nothing here depends on it). `differs` swaps the externals and aliases, for
 * comparisons.
 */
export function esbuildOptions(
  repoRoot: string,
  fn: BundledFunction,
  differs: { external?: readonly string[]; alias?: Readonly<Record<string, string>> } = {},
): BuildOptions {
  return {
    absWorkingDir: repoRoot,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: ESBUILD_TARGET,
    minify: true,
    mainFields: [...MAIN_FIELDS],
    banner: { js: CREATE_REQUIRE_BANNER },
    external: [...(differs.external ?? externalsOf(fn))],
    alias: { ...(differs.alias ?? bundleAliases(repoRoot)) },
  };
}
