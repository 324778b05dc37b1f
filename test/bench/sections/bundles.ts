import { bundleAll, bytesByPackage, type Bundle } from '../lib/bundle';
import { kib } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/** Minified and gzipped bundle size per manifest function, and what fills it. */

const VAULT_MODULE = 'shared/crypto/vault.ts';

function flags(bundle: Extract<Bundle, { ok: true }>): string[] {
  const { access } = bundle.spec;
  const out: string[] = [];
  const has = (path: string) => bundle.inputs.some((input) => input.path === path);
  const hasPackage = (prefix: string) => bundle.inputs.some((input) => input.path.includes(`node_modules/${prefix}`));
  if (access.tokenKey === 'none' && (has(VAULT_MODULE) || hasPackage('@aws-crypto/'))) out.push('vault bundled without tokenKey access');
  if (access.table === 'none' && (hasPackage('@aws-sdk/client-dynamodb') || bundle.externals.some((name) => name.startsWith('@aws-sdk/client-dynamodb')))) {
    out.push('DynamoDB client without table access');
  }
  if (!access.publishEvents && (hasPackage('@aws-sdk/client-eventbridge') || bundle.externals.includes('@aws-sdk/client-eventbridge'))) {
    out.push('EventBridge client without publishEvents');
  }
  return out;
}

/** What invokes the function: `http`, `webhook <provider>` (a Function URL), `schedule` or `event`. */
function triggerOf(bundle: Bundle): string {
  const { trigger } = bundle.spec;
  return trigger.kind === 'webhook' ? `webhook ${trigger.provider}` : trigger.kind;
}

export const bundlesSection: Section = {
  id: 'bundles',
  title: 'Lambda bundle sizes',
  async run(context) {
    const bundles = await bundleAll(context);
    const sizeRows: Row[] = [];
    const compositionRows: Row[] = [];
    const data: Json[] = [];
    for (const bundle of bundles) {
      const { spec } = bundle;
      const access = `${spec.access.table}/${spec.access.tokenKey}${spec.access.publishEvents ? '/events' : ''}`;
      if (!bundle.ok) {
        sizeRows.push({ function: spec.name, trigger: triggerOf(bundle), access, bytes: null, kib: null, gzipKib: null, modules: null, vault: null, flags: `BUILD FAILED: ${bundle.error}` });
        data.push({ function: spec.name, trigger: triggerOf(bundle), error: bundle.error });
        continue;
      }
      const packages = bytesByPackage(bundle.inputs);
      sizeRows.push({
        function: spec.name,
        trigger: triggerOf(bundle),
        access,
        bytes: bundle.bytes,
        kib: kib(bundle.bytes),
        gzipKib: kib(bundle.gzipBytes),
        modules: bundle.inputs.length,
        vault: bundle.inputs.some((input) => input.path === VAULT_MODULE),
        flags: flags(bundle).join('; ') || null,
      });
      compositionRows.push({
        function: spec.name,
        largest: packages
          .slice(0, 4)
          .map((entry) => `${entry.name} ${kib(entry.bytes).toFixed(0)}K`)
          .join(', '),
        externals: bundle.externals.join(' ') || null,
      });
      data.push({
        function: spec.name,
        trigger: triggerOf(bundle),
        entry: spec.entry,
        bytes: bundle.bytes,
        gzipBytes: bundle.gzipBytes,
        modules: bundle.inputs.length,
        includesVault: bundle.inputs.some((input) => input.path === VAULT_MODULE),
        flags: flags(bundle),
        externals: bundle.externals,
        packages: packages.map((entry) => ({ name: entry.name, bytes: entry.bytes })),
      });
    }
    return {
      tables: [
        {
          title: 'Lambda bundles as deployed (infra/constructs/bundling.ts: esm, minify, node22, AWS SDK bundled but for the lazy externals)',
          columns: [
            { key: 'function', title: 'function' },
            { key: 'trigger', title: 'trigger' },
            { key: 'access', title: 'table/token' },
            { key: 'bytes', title: 'min bytes' },
            { key: 'kib', title: 'min KiB', digits: 1 },
            { key: 'gzipKib', title: 'gzip KiB', digits: 1 },
            { key: 'modules', title: 'modules' },
            { key: 'vault', title: 'vault?' },
            { key: 'flags', title: 'flags' },
          ],
          rows: sizeRows,
          notes: [
            'gzip is level 9 of the minified .mjs; source maps (the stack emits one) are not counted',
            'vault?: shared/crypto/vault.ts is in the bundle; webhook functions (Function URLs) verify with HMAC or hashed channel secrets and should show no',
          ],
        },
        {
          title: 'Bundle composition (output bytes by package, largest first)',
          columns: [
            { key: 'function', title: 'function' },
            { key: 'largest', title: 'largest contributors' },
            { key: 'externals', title: 'runtime externals' },
          ],
          rows: compositionRows,
        },
      ],
      data,
    };
  },
};
