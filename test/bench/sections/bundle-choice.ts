import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  EVENT_STREAM_SERDE,
  SECRETS_MANAGER_CLIENT,
  UNREACHED_CREDENTIAL_PROVIDERS,
  bundleAliases,
  esbuildOptions,
  externalsOf,
  type BundledFunction,
} from '../../../infra/constructs/bundling';
import { manifest, type FunctionSpec } from '../../../infra/manifest';
import { REFERENCE_CONFIG, REFERENCE_EXTERNALS, bundleAll, bundleOne, deployedConfig, type Bundle, type BundleConfig } from '../lib/bundle';
import { coldJobKey, coldStartTimes, coldStarts, firstInvocationTimes, importTimes, type ColdJob } from '../lib/cold';
import { kib, max, median } from '../lib/stats';
import type { Json, Row, Section } from '../lib/types';

/**
 * How the bundling of infra/constructs/bundling.ts was chosen, measured in one
 * run: the reference (the previous bundling: the runtime's AWS SDK, nothing
 * aliased) and each candidate step on top of the previous one, for a few
 * representative functions, with candidates that were measured and not
 * adopted; the cold start to a first answer (import, then one invocation that
 * reads the provider secret where the function does) before and with the
 * Secrets Manager step; then every manifest function, reference against
 * deployed, with the ratio of their median cold imports per group (the goal:
 * 0.6 or less for API and webhook functions, and for those with the vault);
 * and zod against zod/mini on a representative set of schemas.
 */
const REPRESENTATIVES = ['list-providers', 'list-integrations', 'slack-webhook', 'google-webhook', 'oauth-callback', 'sync-worker'];
const VAULT_MODULE = 'shared/crypto/vault.ts';
const GOAL = 0.6;
/** The Secrets Manager choice is measured on import and first invocation: the step before it (the deployed bundling until then) and the step itself. */
const BEFORE_SECRETS_STEP = 'asn1-stub';
const SECRETS_STEP = 'secrets-where-read';

type Built = Extract<Bundle, { ok: true }>;

interface Step {
  config: BundleConfig;
  label: string;
  /** Built only for the representatives this says (default: all of them). */
  appliesTo?: (spec: FunctionSpec) => boolean;
}

/** The candidate steps, each on top of the one before; the last is what the stack deploys. */
function steps(root: string): Step[] {
  const aliases = bundleAliases(root);
  const aliased = (...names: string[]) => Object.fromEntries(names.map((name) => [name, aliases[name] ?? name]));
  const credentials = UNREACHED_CREDENTIAL_PROVIDERS;
  const secretsLazy = [...credentials, SECRETS_MANAGER_CLIENT];
  const secretsWhereRead = (spec: FunctionSpec) => externalsOf(spec).filter((name) => name !== EVENT_STREAM_SERDE);
  return [
    { config: REFERENCE_CONFIG, label: 'reference: @aws-sdk/* + @smithy/* external (the runtime\'s SDK)' },
    { config: { id: 'sdk-bundled', external: [], alias: {} }, label: '+ AWS SDK bundled, minified, tree-shaken' },
    { config: { id: 'lazy-credentials', external: credentials, alias: {} }, label: '+ credential providers Lambda never reaches left out' },
    { config: { id: 'lazy-secrets', external: secretsLazy, alias: {} }, label: '+ Secrets Manager client left to its first use (everywhere)' },
    { config: { id: 'crypto-esm', external: secretsLazy, alias: aliased('@aws-crypto/client-node') }, label: '+ Encryption SDK from its ES module build (tree-shaken)' },
    { config: { id: BEFORE_SECRETS_STEP, external: secretsLazy, alias: aliases }, label: '+ asn1.js stubbed (ECDSA only): deployed until now' },
    { config: { id: SECRETS_STEP, external: secretsWhereRead, alias: aliases }, label: '+ Secrets Manager client bundled where the provider secret is read at every cold start' },
    { config: deployedConfig(root), label: '+ event stream codec (no operation of ours streams) left out = deployed' },
  ];
}

/** Measured, not adopted: on top of what is deployed. */
function candidates(root: string): Step[] {
  return [
    {
      config: { id: 'no-eventbridge', external: externalsOf, alias: { ...bundleAliases(root), '@aws-sdk/client-eventbridge': join(root, 'test/bench/lib/eventbridge-absent.ts') } },
      label: '(candidate) deployed without the EventBridge client: the most importing it on first publish could save',
      appliesTo: (spec) => spec.access.publishEvents,
    },
  ];
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
  // As the reference bundles (the SDK plays no part in these, and no function: the externals are given).
  await build({
    ...esbuildOptions(root, SCHEMAS_ONLY, { external: REFERENCE_EXTERNALS, alias: {} }),
    stdin: { contents, resolveDir: root, loader: 'ts' },
    outfile,
    logLevel: 'silent',
  });
  return readFileSync(outfile).length;
}

/** Stands for no manifest function in esbuildOptions: the zod bundles are schemas only. */
const SCHEMAS_ONLY: BundledFunction = { access: { table: 'none', tokenKey: 'none', publishEvents: false } };

const zodBytesIn = (bundle: Built | undefined): number =>
  bundle?.inputs.filter((input) => input.path.includes('node_modules/zod/')).reduce((sum, input) => sum + input.bytesInOutput, 0) ?? 0;

export const bundleChoiceSection: Section = {
  id: 'bundle-choice',
  title: 'Bundling choices, old and new side by side',
  async run(context) {
    const { root } = context;
    const chain = steps(root);
    const measuredOnly = candidates(root);
    const outDir = join(context.workDir, 'bundles');
    const { functions } = context.options;
    const representatives = manifest.filter((spec) => REPRESENTATIVES.includes(spec.name) && (!functions || functions.includes(spec.name)));

    // Every function the reference way and as deployed; the steps between and the candidates only for the representatives.
    const reference = await bundleAll(context, REFERENCE_CONFIG);
    const deployed = await bundleAll(context, deployedConfig(root));
    const between = new Map<string, Bundle[]>();
    for (const step of [...chain.slice(1, -1), ...measuredOnly]) {
      const bundles: Bundle[] = [];
      for (const spec of representatives.filter((each) => step.appliesTo?.(each) ?? true)) bundles.push(await bundleOne(root, outDir, spec, step.config));
      between.set(step.config.id, bundles);
    }
    const bundlesOf = (id: string): Bundle[] => (id === REFERENCE_CONFIG.id ? reference : id === 'deployed' ? deployed : (between.get(id) ?? []));
    const bundleOf = (id: string, name: string): Bundle | undefined => bundlesOf(id).find((bundle) => bundle.spec.name === name);

    const zodDir = join(context.workDir, 'zod');
    const zodFiles = { classic: join(zodDir, 'zod.mjs'), mini: join(zodDir, 'zod-mini.mjs') };
    const zodBytes = { classic: await bundleSource(root, zodFiles.classic, ZOD_CLASSIC), mini: await bundleSource(root, zodFiles.mini, ZOD_MINI) };

    // The cold start to a first answer, before and with the Secrets Manager step.
    const firstInvocationJobs = representatives.flatMap((spec) =>
      [BEFORE_SECRETS_STEP, SECRETS_STEP].flatMap((id): ColdJob[] => {
        const bundle = bundleOf(id, spec.name);
        return bundle?.ok ? [{ outfile: bundle.outfile, firstInvocation: { readsSecret: spec.access.providerCredentials === true } }] : [];
      }),
    );
    // One sampling pass over everything, round robin, so drift on the machine hits every configuration alike.
    const importJobs: ColdJob[] = [
      ...[...reference, ...deployed, ...[...between.values()].flat()].filter(isBuilt).map((bundle) => ({ outfile: bundle.outfile })),
      { outfile: zodFiles.classic },
      { outfile: zodFiles.mini },
    ];
    const cold = await coldStarts(context, [...importJobs, ...firstInvocationJobs]);
    const p50 = (times: number[]): number | null => (times.length > 0 ? median(times) : null);
    const medianOf = (bundle: Bundle | undefined): number | null => (bundle?.ok ? p50(importTimes(cold.get(bundle.outfile))) : null);

    // 1. The steps and the candidates, on the representatives.
    const stepRows: Row[] = [];
    const stepData: Json[] = [];
    for (const spec of representatives) {
      const referenceMs = medianOf(bundleOf(REFERENCE_CONFIG.id, spec.name));
      for (const step of [...chain, ...measuredOnly]) {
        if (step.appliesTo && !step.appliesTo(spec)) continue;
        const bundle = bundleOf(step.config.id, spec.name);
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

    // 2. Import and first invocation, before and with the Secrets Manager step.
    const firstRows: Row[] = representatives.flatMap((spec) => {
      const sampled = (id: string) => {
        const bundle = bundleOf(id, spec.name);
        const samples = bundle?.ok ? cold.get(coldJobKey({ outfile: bundle.outfile, firstInvocation: { readsSecret: spec.access.providerCredentials === true } })) : undefined;
        return { importMs: p50(importTimes(samples)), firstMs: p50(firstInvocationTimes(samples)), coldStartMs: p50(coldStartTimes(samples)), error: samples?.failure ?? null };
      };
      const before = sampled(BEFORE_SECRETS_STEP);
      const after = sampled(SECRETS_STEP);
      const readsSecret = spec.access.providerCredentials === true;
      return [
        { function: spec.name, readsSecret, bundling: 'Secrets Manager client left to its first use', ...before, ratio: 1 },
        {
          function: spec.name,
          readsSecret,
          bundling: readsSecret ? 'Secrets Manager client bundled' : 'the same bundle (the client stays out)',
          ...after,
          ratio: after.coldStartMs !== null && before.coldStartMs ? after.coldStartMs / before.coldStartMs : null,
        },
      ];
    });

    // 3. Every function, reference against deployed.
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
      const medianRatio = median(ratios);
      const goal = group === 'job' ? null : worst <= GOAL ? 'met' : medianRatio <= GOAL ? 'met by median' : 'NOT MET';
      return { group, functions: ratios.length, referenceMs: sums.reference / ratios.length, deployedMs: sums.deployed / ratios.length, medianRatio, worstRatio: worst, goal };
    });

    // 4. zod against zod/mini, and what zod weighs in a webhook bundle.
    const zodMs = { classic: median(importTimes(cold.get(zodFiles.classic))), mini: median(importTimes(cold.get(zodFiles.mini))) };
    const webhook = deployed.find((bundle): bundle is Built => bundle.ok && bundle.spec.name === 'slack-webhook');
    const zodInWebhook = zodBytesIn(webhook);

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
            'a step is kept when it makes imports (for the Secrets Manager client: import and first invocation, next table) faster; the `= deployed` row of each function is what the stack deploys (infra/constructs/bundling.ts)',
            '(candidate) rows are measured on top of what is deployed and not adopted; the EventBridge one stubs the client out, which bounds what a lazy import could save (every accepted delivery publishes, so that import would move to the first request, not go away)',
            'bundled externals resolve to this repository\'s node_modules here, to the Lambda runtime\'s SDK in AWS',
          ],
        },
        {
          title: `Cold start to a first answer: import, then one invocation with an empty request (the provider secret served on loopback where the function reads it), ${context.options.coldRuns} fresh processes each`,
          columns: [
            { key: 'function', title: 'function' },
            { key: 'readsSecret', title: 'reads secret' },
            { key: 'bundling', title: 'bundling' },
            { key: 'importMs', title: 'import ms p50', digits: 1 },
            { key: 'firstMs', title: 'first invocation ms p50', digits: 1 },
            { key: 'coldStartMs', title: 'both ms p50', digits: 1 },
            { key: 'ratio', title: '× before', digits: 2 },
            { key: 'error', title: 'error' },
          ],
          rows: firstRows,
          notes: [
            'every handler reads the provider credentials secret before anything else when its function has one (manifest `providerCredentials`); left out of the bundle, its client is loaded from the runtime\'s SDK on that first request',
            'the invocation is refused at the edge (no token, no signature, no event) right after the secret: what it adds besides the secret is the same in both rows',
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
            `in the deployed slack-webhook bundle zod is ${kib(zodInWebhook).toFixed(0)} KiB of ${webhook ? kib(webhook.bytes).toFixed(0) : '?'} KiB; that bundle imports in ${medianOf(webhook)?.toFixed(0) ?? '?'} ms, so zod/mini could save about ${(zodMs.classic - zodMs.mini).toFixed(0)} ms of it`,
            'not adopted: a webhook bundle is rid of zod classic only when every module on its import graph moves to zod/mini (the configuration, the store modules, the provider webhook modules), and the API functions import the same modules next to their zod classic handlers, so they would carry both; porting is a follow-up with its own measurement',
          ],
        },
      ],
      data: {
        steps: stepData,
        firstInvocation: firstRows,
        pairs: pairRows,
        groups: groupRows,
        zod: { classicBytes: zodBytes.classic, miniBytes: zodBytes.mini, classicMs: zodMs.classic, miniMs: zodMs.mini, bytesInSlackWebhook: zodInWebhook },
      },
    };
  },
};
