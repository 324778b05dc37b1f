import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { LoggedRequest } from '../../../infra/local/sandbox';
import type { IntegrationRecord } from '../../../shared/domain/integration';
import type { Credential } from '../../../shared/oauth/types';
import type { TokenRef } from '../../../shared/store/tokens';
import { errorMessage } from '../lib/child';
import { overrideEnv } from '../lib/env';
import { BENCH_BUS, busDelta, inProcessEventBus } from '../lib/event-bus';
import { median, percentile } from '../lib/stats';
import { countDynamoRequests, inProcessStore } from '../lib/store';
import type { Json, Row, Section } from '../lib/types';

/**
 * How many provider refresh calls N concurrent token requests cause. Each
 * provider gets an integration through the real OAuth flow (connect handler,
 * a browser-like consent at the sandbox provider, callback handler); then its
 * stored access token is made to look expired and N `getCredential` calls run
 * at once in this process. The token manager's DynamoDB lease should let one
 * of them refresh at the provider while the others wait and re-read, so every
 * row should show 1 refresh and 1 distinct access token. Everything runs in
 * the bench process: dynalite in memory, the sandbox providers and a local
 * EventBridge on 127.0.0.1.
 */
const CONCURRENCY = [1, 10, 50, 200] as const;
const PROVIDERS = [
  { providerId: 'slack', kind: 'slack-bot' },
  { providerId: 'google', kind: 'oauth' },
  { providerId: 'microsoft', kind: 'oauth' },
] as const;
type ProviderId = (typeof PROVIDERS)[number]['providerId'];

const PROVIDER_ENV = ['SLACK', 'GOOGLE', 'MICROSOFT'].flatMap((name) => [`${name}_CLIENT_ID`, `${name}_CLIENT_SECRET`]);

const startedSchema = z.object({ url: z.string().min(1), state: z.string().min(1) });

/** A refresh at the provider: a token-endpoint request with grant_type=refresh_token (form body or query). */
function isRefreshRequest(request: LoggedRequest): boolean {
  if (!/(?:\/token|\/oauth\.v2\.access)$/.test(request.path)) return false;
  const body = request.body;
  const grantType =
    body !== null && typeof body === 'object' && 'grant_type' in body ? (body as { grant_type?: unknown }).grant_type : request.query.grant_type;
  return grantType === 'refresh_token';
}

const refOf = (integration: IntegrationRecord): TokenRef => ({
  orgId: integration.orgId,
  integrationId: integration.id,
  providerId: integration.providerId,
});

interface Measurement {
  provider: ProviderId;
  n: number;
  refreshCalls: number;
  providerRequests: number;
  distinctTokens: number;
  failed: number;
  firstError: string | null;
  /** Every caller got the token now stored, and it is not the expired one. */
  storedMatches: boolean;
  wallMs: number;
  callerMs: { p50: number; p90: number; max: number };
  dynamo: { total: number; refused: number; byCommand: Record<string, number> };
}

export const tokenRefreshSection: Section = {
  id: 'refresh',
  title: 'Token refresh under concurrency',
  async run(context) {
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    // The run's shared bus (the publisher keeps the first endpoint it sees), started before the overrides so they restore to it.
    const bus = await inProcessEventBus(context);
    const busBefore = bus.counts();
    const restoreEnv = overrideEnv({
      INTEGRATION_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      EVENT_BUS_NAME: BENCH_BUS,
      APP_BASE_URL: 'http://app.bench.invalid',
      API_BASE_URL: 'http://api.bench.invalid',
      PROVIDER_CREDENTIALS_SECRET_ARN: undefined,
      SANDBOX_BASE_URL: process.env.SANDBOX_BASE_URL, // restored: set once the sandbox listens
      ...Object.fromEntries(PROVIDER_ENV.map((name) => [name, undefined])),
    });
    const closers: (() => Promise<void>)[] = [];
    let restoreLogLevel = () => {};
    try {
      const [
        { startSandboxServer },
        { call, claimsFor },
        { submitConsent },
        { handler: connectHandler },
        { handler: callbackHandler },
        { handler: completeHandler },
        { getCredential },
        { listIntegrations },
        { loadCredentials, replaceCredentials },
        { logger },
      ] = await Promise.all([
        import('../../../infra/local/sandbox'),
        import('../../support/api'),
        import('../../support/oauth-browser'),
        import('../../../functions/api/connect'),
        import('../../../functions/api/oauth-callback'),
        import('../../../functions/api/complete-connection'),
        import('../../../shared/oauth/token-manager'),
        import('../../../shared/store/integrations'),
        import('../../../shared/store/tokens'),
        import('../../../shared/logging/logger'),
      ]);
      // The handlers log JSON lines on stdout, which carries only the tables here.
      const previousLevel = logger.getLevelName();
      logger.setLogLevel('SILENT');
      restoreLogLevel = () => logger.setLogLevel(previousLevel);

      const server = await startSandboxServer({ port: 0 });
      closers.push(() => server.close());
      process.env.SANDBOX_BASE_URL = server.url;
      const { sandbox } = server;
      const lastSeq = () => sandbox.requests().at(-1)?.seq ?? 0;

      /** Connects like a user would: connect handler, consent page, callback handler, then the app completes the pending grant. */
      async function connect(providerId: ProviderId): Promise<IntegrationRecord> {
        const orgId = `bench-refresh-${providerId}-${randomUUID().slice(0, 8)}`;
        const started = await call(connectHandler, {
          method: 'POST',
          path: '/api/integrations/connect',
          body: JSON.stringify({ providerId }),
          headers: { 'content-type': 'application/json' },
          claims: claimsFor(orgId, 'admin', 'bench-user'),
        });
        if (started.statusCode !== 200) throw new Error(`connect answered ${started.statusCode}: ${started.raw.slice(0, 300)}`);
        const { url } = startedSchema.parse(started.json.data);
        const callbackUrl = new URL(await submitConsent(url, 'allow'));
        const back = await call(callbackHandler, {
          method: 'GET',
          path: callbackUrl.pathname,
          routeKey: 'GET /api/integrations/callback/{providerId}',
          pathParameters: { providerId },
          query: callbackUrl.search.slice(1),
          headers: { 'user-agent': 'bench' },
          claims: null,
        });
        const location = String(back.headers.location ?? '');
        const pending = location ? new URL(location).searchParams.get('pending') : null;
        if (back.statusCode !== 302 || !pending) throw new Error(`callback answered ${back.statusCode} to ${location || back.raw.slice(0, 300)}`);
        const completed = await call(completeHandler, {
          method: 'POST',
          path: '/api/integrations/connect/complete',
          body: JSON.stringify({ pending }),
          headers: { 'content-type': 'application/json' },
          claims: claimsFor(orgId, 'admin', 'bench-user'),
        });
        if (completed.statusCode !== 200) throw new Error(`completion answered ${completed.statusCode}: ${completed.raw.slice(0, 300)}`);
        const integration = (await listIntegrations(orgId)).items.find((item) => item.providerId === providerId);
        if (!integration) throw new Error('the callback created no integration');
        return integration;
      }

      /** Re-stores the credential with an expiry in the past (as time passing would); returns the now stale access token. */
      async function expire(integration: IntegrationRecord, kind: string): Promise<string> {
        const ref = refOf(integration);
        const stored = await loadCredentials(ref);
        const credential = stored?.credentials.find((candidate) => candidate.kind === kind);
        if (!stored || !credential) throw new Error(`no stored ${kind} credential`);
        const past = new Date(Date.now() - 60_000).toISOString();
        await replaceCredentials(
          ref,
          stored.credentials.map((candidate) => (candidate.kind === kind ? { ...candidate, expiresAt: past } : candidate)),
        );
        return credential.accessToken;
      }

      async function measure(integration: IntegrationRecord, provider: ProviderId, kind: string, n: number): Promise<Measurement> {
        const stale = await expire(integration, kind);
        const since = lastSeq();
        const dynamoBefore = { total: counter.total(), refused: counter.failed(), byCommand: counter.byCommand() };
        const callerMs: number[] = [];
        const started = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: n }, async (): Promise<Credential> => {
            const callStarted = performance.now();
            try {
              return await getCredential(integration, kind);
            } finally {
              callerMs.push(performance.now() - callStarted);
            }
          }),
        );
        const wallMs = performance.now() - started;
        const byCommand = counter.byCommand();
        const dynamo = {
          total: counter.total() - dynamoBefore.total,
          refused: counter.failed() - dynamoBefore.refused,
          byCommand: Object.fromEntries(
            Object.entries(byCommand)
              .map(([name, count]): [string, number] => [name, count - (dynamoBefore.byCommand[name] ?? 0)])
              .filter(([, count]) => count > 0),
          ),
        };
        const requests = sandbox.requests({ provider, since });
        const tokens = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value.accessToken] : []));
        const rejected = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
        const distinct = new Set(tokens);
        const stored = (await loadCredentials(refOf(integration)))?.credentials.find((candidate) => candidate.kind === kind);
        const [token] = distinct;
        return {
          provider,
          n,
          refreshCalls: requests.filter(isRefreshRequest).length,
          providerRequests: requests.length,
          distinctTokens: distinct.size,
          failed: rejected.length,
          firstError: rejected.length > 0 ? errorMessage(rejected[0]) : null,
          storedMatches: rejected.length === 0 && distinct.size === 1 && token !== stale && stored?.accessToken === token,
          wallMs,
          callerMs: { p50: median(callerMs), p90: percentile(callerMs, 90), max: Math.max(...callerMs) },
          dynamo,
        };
      }

      const measurements: Measurement[] = [];
      const problems: string[] = [];
      for (const { providerId, kind } of PROVIDERS) {
        try {
          const integration = await connect(providerId);
          // One unreported refresh first, so the N=1 row does not pay first-use costs (imports, connections).
          await expire(integration, kind);
          await getCredential(integration, kind);
          for (const n of CONCURRENCY) {
            const measured = await measure(integration, providerId, kind, n);
            measurements.push(measured);
            context.log(
              `refresh: ${providerId} N=${n}: ${measured.refreshCalls} refresh(es), ${measured.distinctTokens} token(s), ${measured.wallMs.toFixed(0)} ms`,
            );
            if (measured.firstError) problems.push(`${providerId} N=${n}: ${measured.failed} call(s) failed, first: ${measured.firstError}`);
          }
        } catch (error) {
          problems.push(`${providerId}: could not run (${errorMessage(error)})`);
        }
      }
      if (measurements.length === 0) throw new Error(problems.join('; ') || 'nothing measured');

      const rows: Row[] = measurements.map((m) => ({
        provider: m.provider,
        n: m.n,
        refreshCalls: m.refreshCalls,
        distinctTokens: m.distinctTokens,
        failed: m.failed,
        storedMatches: m.storedMatches,
        wallMs: m.wallMs,
        p50Ms: m.callerMs.p50,
        dynamo: m.dynamo.total,
        perCall: m.dynamo.total / m.n,
        refused: m.dynamo.refused,
      }));
      const unexpected = measurements.filter((m) => m.refreshCalls !== 1 || m.distinctTokens !== 1 || m.failed > 0 || !m.storedMatches);
      const healthEvents = busDelta(busBefore, bus.counts()).accepted['integration.health_changed'] ?? 0;

      return {
        tables: [
          {
            title: `Token refresh under concurrency: N concurrent getCredential calls on an expired token (sandbox providers, dynalite in memory)`,
            columns: [
              { key: 'provider', title: 'provider' },
              { key: 'n', title: 'N' },
              { key: 'refreshCalls', title: 'refreshes at provider' },
              { key: 'distinctTokens', title: 'distinct tokens' },
              { key: 'failed', title: 'failed calls' },
              { key: 'storedMatches', title: 'new token stored' },
              { key: 'wallMs', title: 'wall ms', digits: 0 },
              { key: 'p50Ms', title: 'p50 call ms', digits: 0 },
              { key: 'dynamo', title: 'DynamoDB reqs' },
              { key: 'perCall', title: 'reqs/call', digits: 1 },
              { key: 'refused', title: 'refused writes' },
            ],
            rows,
            notes: [
              'expected per row: 1 refresh at the provider and 1 distinct access token, the one now stored (not the expired one)',
              "Slack measures the 'slack-bot' credential, Google and Microsoft 'oauth'; each provider has one integration, connected through the connect, callback and completion handlers and the sandbox consent page, and refreshed once before the rows (not reported)",
              'refreshes: token-endpoint requests with grant_type=refresh_token the sandbox logged during the row; callers in one process share one in-flight read (single-flight); across containers the DynamoDB lease keeps it at 1 (tested in oauth-lifecycle.test.ts)',
              'DynamoDB reqs: the store client during the burst (credential reads, lease attempts, the commit); refused writes are lease attempts that lost the conditional check',
              `unexpected rows: ${unexpected.length === 0 ? 'none' : unexpected.map((m) => `${m.provider} N=${m.n}`).join(', ')}; health events published: ${healthEvents}`,
              ...problems,
            ],
          },
        ],
        data: {
          concurrency: [...CONCURRENCY],
          rows: measurements.map(
            (m): Json => ({
              provider: m.provider,
              n: m.n,
              refreshCalls: m.refreshCalls,
              providerRequests: m.providerRequests,
              distinctAccessTokens: m.distinctTokens,
              failedCalls: m.failed,
              firstError: m.firstError,
              newTokenStored: m.storedMatches,
              wallMs: m.wallMs,
              callerMs: m.callerMs,
              dynamoRequests: m.dynamo,
            }),
          ),
          unexpectedRows: unexpected.length,
          healthEvents,
          problems,
        },
      };
    } finally {
      restoreLogLevel();
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (error) {
          context.log(`refresh: cleanup failed: ${errorMessage(error)}`);
        }
      }
      restoreEnv();
    }
  },
};
