import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_ALIASES, LAZY_EXTERNALS, bundleAliases, esbuildOptions } from '../../../infra/constructs/bundling';
import { manifest } from '../../../infra/manifest';
import { REFERENCE_CONFIG, bundleAll, bundleOne, deployedConfig, type Bundle, type BundleConfig } from '../lib/bundle';
import { coldImports, importTimes } from '../lib/cold';
import { kib, max, median } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/**
 * How the bundling of infra/constructs/bundling.ts was chosen, measured in one
 * run: the reference (the previous bundling: the runtime's AWS SDK, nothing
 * aliased) and each candidate step on top of the previous one, for a few
 * representative functions; then every manifest function, reference against
 * deployed, with the ratio of their median cold imports per group (the goal:
 * 0.6 or less for API and webhook functions, and for those with the vault);
 * and zod against zod/mini on a representative set of schemas.
 */
const REPRESENTATIVES = ['list-providers', 'list-integrations', 'slack-webhook', 'oauth-callback', 'sync-worker'];
const VAULT_MODULE = 'shared/crypto/vault.ts';
const GOAL = 0.6;

type Built = Extract<Bundle, { ok: true }>;

interface Step {
  config: BundleConfig;
  label: string;
}

/** The candidate steps, each on top of the one before; the last is what the stack deploys. */
function steps(root: string): Step[] {
  const credentialProviders = LAZY_EXTERNALS.filter((name) => name.includes('credential-provider'));
  const otherLazy = LAZY_EXTERNALS.filter((name) => !credentialProviders.includes(name));
  const aliases = bundleAliases(root);
  const aliased = (...names: string[]) => Object.fromEntries(names.map((name) => [name, aliases[name] ?? name]));
  const list: Step[] = [
    { config: REFERENCE_CONFIG, label: 'reference: @aws-sdk/* + @smithy/* external (the runtime\'s SDK)' },
    { config: { id: 'sdk-bundled', external: [], alias: {} }, label: '+ AWS SDK bundled, minified, tree-shaken' },
    { config: { id: 'lazy-credentials', external: credentialProviders, alias: {} }, label: '+ credential providers Lambda never reaches left out' },
    { config: { id: 'lazy-secrets', external: [...credentialProviders, ...otherLazy], alias: {} }, label: '+ Secrets Manager client left to its first use' },
    {
      config: { id: 'crypto-esm', external: LAZY_EXTERNALS, alias: aliased('@aws-crypto/client-node') },
      label: '+ Encryption SDK from its ES module build (tree-shaken)',
    },
  ];
  const deployed = deployedConfig(root);
  list.push({ config: deployed, label: `+ asn1.js stubbed (ECDSA only) = deployed (${Object.keys(BUNDLE_ALIASES).join(', ')} aliased)` });
  return list;
}

const isBuilt = (bundle: Bundle): bundle is Built => bundle.ok;

/** `api`, `webhook`, `job`, or `vault` when the reference bundle carries the token vault. */
function groupOf(reference: Built): string {
  if (reference.inputs.some((input) => input.path === VAULT_MODULE)) return 'vault';
  const { kind } = reference.spec.trigger;
  return kind === 'http' ? 'api' : kind === 'webhook' ? 'webhook' : 'job';
}

const ZOD_CLASSIC = `
import * as z from 'zod';
const integration = z.object({
  id: z.string().regex(/^int_[0-9A-Z]{26}$/), providerId: z.enum(['slack', 'google', 'microsoft']), status: z.enum(['active', 'disconnected']),
  scopes: z.array(z.string()), connectedAt: z.iso.datetime(), lastSyncAt: z.iso.datetime().nullable(), settings: z.object({ scheduledSync: z.boolean().optional() }).optional(),
});
const query = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), cursor: z.string().max(2000).optional() });
const envelope = z.object({ success: z.literal(true), data: z.array(integration) });
export const parsed = [query.safeParse({ limit: '10' }).success, envelope.safeParse({ success: true, data: [] }).success];
`;

const ZOD_MINI = `
import * as z from 'zod/mini';
const integration = z.object({
  id: z.string().check(z.regex(/^int_[0-9A-Z]{26}$/)), providerId: z.enum(['slack', 'google', 'microsoft']), status: z.enum(['active', 'disconnected']),
  scopes: z.array(z.string()), connectedAt: z.iso.datetime(), lastSyncAt: z.nullable(z.iso.datetime()), settings: z.optional(z.object({ scheduledSync: z.optional(z.boolean()) })),
});
const query = z.object({ limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 50), cursor: z.optional(z.string().check(z.maxLength(2000))) });
const envelope = z.object({ success: z.literal(true), data: z.array(integration) });
export const parsed = [query.safeParse({ limit: '10' }).success, envelope.safeParse({ success: true, data: [] }).success];
`;

async function bundleSource(root: string, outfile: string, contents: string): Promise<number> {
  // As the reference bundles (the SDK plays no part in these).
  await build({ ...esbuildOptions(root, REFERENCE_CONFIG), stdin: { contents, resolveDir: root, loader: 'ts' }, outfile, logLevel: 'silent' });
  return readFileSync(outfile).length;
}

export const bundleChoiceSection: Section = {
  id: 'bundle-choice',
  title: 'Bundling choices, old and new side by side',
  async run(context) {
    const { root } = context;
    const candidateSteps = steps(root);
    const outDir = join(context.workDir, 'bundles');
    const { functions } = context.options;
    const representatives = manifest.filter((spec) => REPRESENTATIVES.includes(spec.name) && (!functions || functions.includes(spec.name)));

    // Every function the reference way and as deployed; the steps between only for the representatives.
    const reference = await bundleAll(context, REFERENCE_CONFIG);
    const deployed = await bundleAll(context, deployedConfig(root));
    const between = new Map<string, Bundle[]>();
    for (const step of candidateSteps.slice(1, -1)) {
      const bundles: Bundle[] = [];
      for (const spec of representatives) bundles.push(await bundleOne(root, outDir, spec, step.config));
      between.set(step.config.id, bundles);
    }
    const bundlesOf = (id: string): Bundle[] => (id === REFERENCE_CONFIG.id ? reference : id === 'deployed' ? deployed : (between.get(id) ?? []));

    const zodDir = join(context.workDir, 'zod');
    const zodFiles = { classic: join(zodDir, 'zod.mjs'), mini: join(zodDir, 'zod-mini.mjs') };
    const zodBytes = { classic: await bundleSource(root, zodFiles.classic, ZOD_CLASSIC), mini: await bundleSource(root, zodFiles.mini, ZOD_MINI) };

    // One sampling pass over everything, round robin, so drift on the machine hits every configuration alike.
    const outfiles = [
      ...[...reference, ...deployed, ...[...between.values()].flat()].filter(isBuilt).map((bundle) => bundle.outfile),
      zodFiles.classic,
      zodFiles.mini,
    ];
    const cold = await coldImports(context, outfiles);
    const medianOf = (bundle: Bundle | undefined): number | null => {
      if (!bundle?.ok) return null;
      const times = importTimes(cold.get(bundle.outfile));
      return times.length > 0 ? median(times) : null;
    };

    // 1. The steps, on the representatives.
    const stepRows: Row[] = [];
    const stepData: Json[] = [];
    for (const spec of representatives) {
      const referenceMs = medianOf(reference.find((bundle) => bundle.spec.name === spec.name));
      for (const step of candidateSteps) {
        const bundle = bundlesOf(step.config.id).find((each) => each.spec.name === spec.name);
        const ms = medianOf(bundle);
        stepRows.push({
          function: spec.name,
          step: step.label,
          kib: bundle?.ok ? kib(bundle.bytes) : null,
          importMs: ms,
          ratio: ms !== null && referenceMs ? ms / referenceMs : null,
          error: bundle && !bundle.ok ? bundle.error : (cold.get(bundle?.ok ? bundle.outfile : '')?.failure ?? null),
        });
        stepData.push({ function: spec.name, config: step.config.id, bytes: bundle?.ok ? bundle.bytes : null, importMsMedian: ms });
      }
    }

    // 2. Every function, reference against deployed.
    const pairRows: Row[] = [];
    const ratiosByGroup = new Map<string, number[]>();
    const sumsByGroup = new Map<string, { reference: number; deployed: number }>();
    for (const old of reference.filter(isBuilt)) {
      const now = deployed.find((bundle) => bundle.spec.name === old.spec.name);
      const group = groupOf(old);
      const referenceMs = medianOf(old);
      const deployedMs = medianOf(now);
      const ratio = referenceMs !== null && deployedMs !== null ? deployedMs / referenceMs : null;
      if (ratio !== null && referenceMs !== null && deployedMs !== null) {
        ratiosByGroup.set(group, [...(ratiosByGroup.get(group) ?? []), ratio]);
        const sums = sumsByGroup.get(group) ?? { reference: 0, deployed: 0 };
        sumsByGroup.set(group, { reference: sums.reference + referenceMs, deployed: sums.deployed + deployedMs });
      }
      pairRows.push({
        function: old.spec.name,
        group,
        referenceKib: kib(old.bytes),
        deployedKib: now?.ok ? kib(now.bytes) : null,
        referenceMs,
        deployedMs,
        ratio,
      });
    }
    const groupRows: Row[] = [...ratiosByGroup].map(([group, ratios]) => {
      const sums = sumsByGroup.get(group) ?? { reference: Number.NaN, deployed: Number.NaN };
      const worst = max(ratios);
      const goal = group === 'job' ? null : worst <= GOAL ? 'met' : 'NOT MET';
      return { group, functions: ratios.length, referenceMs: sums.reference / ratios.length, deployedMs: sums.deployed / ratios.length, medianRatio: median(ratios), worstRatio: worst, goal };
    });

    // 3. zod against zod/mini.
    const zodMs = { classic: median(importTimes(cold.get(zodFiles.classic))), mini: median(importTimes(cold.get(zodFiles.mini))) };
    const listIntegrations = deployed.find((bundle): bundle is Built => bundle.ok && bundle.spec.name === 'list-integrations');
    const zodInBundle = listIntegrations?.inputs.filter((input) => input.path.includes('node_modules/zod/')).reduce((sum, input) => sum + input.bytesInOutput, 0) ?? 0;
    const listIntegrationsMs = medianOf(listIntegrations);

    return {
      tables: [
        {
          title: `Bundling candidates, each step on top of the one before (median cold import, ${context.options.coldRuns} fresh processes each, one round-robin pass)`,
          columns: [
            { key: 'function', title: 'function' },
            { key: 'step', title: 'step' },
            { key: 'kib', title: 'min KiB', digits: 0 },
            { key: 'importMs', title: 'import ms p50', digits: 1 },
            { key: 'ratio', title: '× reference', digits: 2 },
            { key: 'error', title: 'error' },
          ],
          rows: stepRows,
          notes: [
            'a step is kept when it makes imports faster; the last row of each function is what the stack deploys (infra/constructs/bundling.ts)',
            'bundled externals resolve to this repository\'s node_modules here, to the Lambda runtime\'s SDK in AWS',
          ],
        },
        {
          title: 'Every function: reference bundling against deployed (median cold import, same run)',
          columns: [
            { key: 'function', title: 'function' },
            { key: 'group', title: 'group' },
            { key: 'referenceKib', title: 'ref KiB', digits: 0 },
            { key: 'deployedKib', title: 'new KiB', digits: 0 },
            { key: 'referenceMs', title: 'ref ms p50', digits: 1 },
            { key: 'deployedMs', title: 'new ms p50', digits: 1 },
            { key: 'ratio', title: 'new/ref', digits: 2 },
          ],
          rows: pairRows,
          notes: ['group vault: the reference bundle carries shared/crypto/vault.ts; job: scheduled or event-driven without the vault'],
        },
        {
          title: `Per group: mean of the medians and the ratios (goal ≤ ${GOAL} for api, webhook and vault)`,
          columns: [
            { key: 'group', title: 'group' },
            { key: 'functions', title: 'functions' },
            { key: 'referenceMs', title: 'ref ms (mean p50)', digits: 1 },
            { key: 'deployedMs', title: 'new ms (mean p50)', digits: 1 },
            { key: 'medianRatio', title: 'median ratio', digits: 2 },
            { key: 'worstRatio', title: 'worst ratio', digits: 2 },
            { key: 'goal', title: 'goal' },
          ],
          rows: groupRows,
        },
        {
          title: 'zod (classic, used everywhere today) against zod/mini: the same representative schemas, bundled alone',
          columns: [
            { key: 'variant', title: 'variant' },
            { key: 'kib', title: 'min KiB', digits: 1 },
            { key: 'importMs', title: 'import ms p50', digits: 1 },
          ],
          rows: [
            { variant: 'zod', kib: kib(zodBytes.classic), importMs: zodMs.classic },
            { variant: 'zod/mini', kib: kib(zodBytes.mini), importMs: zodMs.mini },
          ],
          notes: [
            `in the deployed list-integrations bundle zod is ${kib(zodInBundle).toFixed(0)} KiB of ${listIntegrations ? kib(listIntegrations.bytes).toFixed(0) : '?'} KiB; that bundle imports in ${listIntegrationsMs?.toFixed(0) ?? '?'} ms, so zod/mini could save about ${(zodMs.classic - zodMs.mini).toFixed(0)} ms of it`,
            'not adopted: every handler, store and provider module parses with zod classic, and five other changes are editing them now; porting is a follow-up with its own measurement',
          ],
        },
      ],
      data: {
        steps: stepData,
        pairs: pairRows,
        groups: groupRows,
        zod: { classicBytes: zodBytes.classic, miniBytes: zodBytes.mini, classicMs: zodMs.classic, miniMs: zodMs.mini, bytesInListIntegrations: zodInBundle },
      },
    };
  },
};
