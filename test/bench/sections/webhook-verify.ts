import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { randomBytes, randomUUID } from 'node:crypto';
import { overrideEnv } from '../lib/env';
import { busDelta, inProcessEventBus, type BusCounts } from '../lib/event-bus';
import { max, mean, percentile } from '../lib/stats';
import { countDynamoRequests, inProcessStore } from '../lib/store';
import type { Json, Row, Section } from '../lib/types';
import { BENCH_SLACK_TEAM, benchIntegration, slackHeaders, slackMessageBody } from '../lib/webhooks';

/**
 * Verify-and-ack cost of the three webhook functions, in this process: the
 * real handlers (middy, the powertools logger, verification, dedupe, routing,
 * publishing) invoked with Function URL events as Lambda would, one at a time,
 * against dynalite in memory and the run's local EventBridge. Per provider:
 *
 * - accepted: valid and distinct deliveries (new Slack event_id, new Google
 *   message number, new Graph item), so each is processed, not deduplicated;
 * - duplicate: the same deliveries again (a provider's retry), refused by the
 *   dedupe marker;
 * - rejected: a forged Slack signature, a wrong Google channel token, a wrong
 *   Graph clientState.
 *
 * One integration per provider is seeded (Slack team T0BENCH, a Google
 * calendar channel, a Graph events subscription). Each event is built (and
 * signed) before its clock starts; the clock covers only
 * `await handler(event, context)`. Rows run BENCH_WEBHOOK_N invocations when
 * it is set; by default up to 1000, each row stopping after 2 s of handler
 * time, so the section stays around 15-25 s on a busy 2-core machine.
 */
const DEFAULT_INVOCATIONS = 1000;
const ROW_BUDGET_MS = 2_000;

type Provider = 'slack' | 'google' | 'microsoft';
type Case = 'accepted' | 'duplicate' | 'rejected';

type Invoke = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

interface Scenario {
  provider: Provider;
  kind: Case;
  what: string;
  functionName: string;
  invoke: Invoke;
  expectedStatus: number;
  /** `integration.webhook.received` events each invocation should publish. */
  expectedReceived: number;
  /** The i-th delivery of the measured run (`phase` keeps warm-up and measured deliveries apart). */
  delivery(phase: 'warmup' | 'measured', index: number): Delivery;
}

interface Measured {
  scenario: Scenario;
  n: number;
  asExpected: number;
  statuses: Record<string, number>;
  latencyMs: number[];
  dynamo: { total: number; refused: number; byCommand: Record<string, number> };
  bus: BusCounts & { entries: number };
  /** Bytes the handlers wrote on stdout and stderr (log lines) during the row. */
  logBytes: number;
}

interface DiscardedOutput {
  /** Bytes discarded so far (both streams). */
  bytes(): number;
  restore(): void;
}

/**
 * Swallows what is written on stdout and stderr (the handlers' log lines:
 * info on stdout, warn and error on stderr), counting the bytes, until
 * restored. The bench's own progress lines (`[bench] ...`) still go through.
 */
function discardOutput(): DiscardedOutput {
  let bytes = 0;
  const restores = [process.stdout, process.stderr].map((stream) => {
    const own = Object.getOwnPropertyDescriptor(stream, 'write');
    const original = stream.write.bind(stream);
    const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      if (typeof chunk === 'string' && chunk.startsWith('[bench')) return original(chunk, ...(rest as [BufferEncoding]));
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return true;
    };
    Object.defineProperty(stream, 'write', { value: write, configurable: true, writable: true });
    return () => {
      if (own) Object.defineProperty(stream, 'write', own);
      else delete (stream as { write?: unknown }).write;
    };
  });
  return {
    bytes: () => bytes,
    restore: () => {
      for (const restore of restores) restore();
    },
  };
}

const statusOf = (result: unknown): number =>
  result !== null && typeof result === 'object' && 'statusCode' in result && typeof result.statusCode === 'number' ? result.statusCode : -1;

/** `{QueryCommand: 2000, PutCommand: 2000}` over 2000 ops → `Query 1 + Put 1`. */
function perOp(byCommand: Record<string, number>, n: number): string {
  const parts = Object.entries(byCommand)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, count]) => {
      const each = count / n;
      return `${name.replace(/Command$/, '')} ${Number.isInteger(each) ? each : each.toFixed(2)}`;
    });
  return parts.length > 0 ? parts.join(' + ') : 'none';
}

export const webhookVerifySection: Section = {
  id: 'webhook-verify',
  title: 'Webhook verify-and-ack, in process',
  async run(context) {
    // BENCH_WEBHOOK_N runs exactly N per row; by default up to 1000, each row stopping after ROW_BUDGET_MS of handler time.
    const n = context.options.webhookInvocations ?? DEFAULT_INVOCATIONS;
    const budgetMs = context.options.webhookInvocations === undefined ? ROW_BUDGET_MS : Number.POSITIVE_INFINITY;
    const warmup = Math.min(100, Math.max(10, Math.floor(n / 10)));
    await inProcessStore(context);
    const counter = await countDynamoRequests(context);
    const bus = await inProcessEventBus(context);

    const tag = randomBytes(4).toString('hex');
    const slackSecret = randomBytes(24).toString('hex');
    const googleToken = randomBytes(24).toString('base64url');
    const graphClientState = randomBytes(24).toString('base64url');
    const restoreEnv = overrideEnv({
      SLACK_SIGNING_SECRET: slackSecret,
      // Where the functions would read provider secrets in AWS; here the environment is the source.
      PROVIDER_CREDENTIALS_SECRET_ARN: undefined,
    });
    let output: DiscardedOutput | undefined;
    try {
      const [
        { handler: slackHandler },
        { handler: googleHandler },
        { handler: microsoftHandler },
        { functionUrlEvent, lambdaContext },
        { createIntegration, newIntegrationId },
        { hashSecret, saveSubscription },
        { integrationsForAccount },
        { logger },
      ] = await Promise.all([
        import('../../../functions/webhooks/slack'),
        import('../../../functions/webhooks/google'),
        import('../../../functions/webhooks/microsoft'),
        import('../../../infra/local/lambda-events'),
        import('../../../shared/store/integrations'),
        import('../../../shared/store/subscriptions'),
        import('../../../shared/webhooks/routing'),
        import('../../../shared/logging/logger'),
      ]);
      // The handlers log at their deployed level (the middleware resets any other level on each warm
      // invocation), so building the JSON lines is part of the cost; the lines themselves are discarded
      // (stdout carries only the tables).
      output = discardOutput();
      const logLevel = logger.getLevelName();

      // Seed: one integration per provider; Google and Graph get their push subscription (secret stored hashed).
      const orgId = `bench-webhooks-${tag}`;
      const slack = benchIntegration({ id: newIntegrationId(), orgId, providerId: 'slack', externalAccountId: BENCH_SLACK_TEAM });
      const google = benchIntegration({ id: newIntegrationId(), orgId, providerId: 'google', externalAccountId: `bench-${tag}@example.test` });
      const microsoft = benchIntegration({ id: newIntegrationId(), orgId, providerId: 'microsoft', externalAccountId: randomUUID() });
      for (const integration of [slack, google, microsoft]) await createIntegration(integration);
      const now = Date.now();
      const subscriptionBase = { orgId, channelExpiresAt: new Date(now + 6 * 24 * 3600_000).toISOString(), createdAt: new Date(now).toISOString() };
      const googleChannel = {
        ...subscriptionBase,
        integrationId: google.id,
        providerId: 'google',
        channel: 'google',
        subscriptionId: `bench-channel-${tag}`,
        resource: 'calendar',
        resourceId: `bench-resource-${tag}`,
        secretHash: hashSecret(googleToken),
      };
      const graphSubscription = {
        ...subscriptionBase,
        integrationId: microsoft.id,
        providerId: 'microsoft',
        channel: 'microsoft',
        subscriptionId: randomUUID(),
        resource: 'events',
        resourceId: 'me/events',
        secretHash: hashSecret(graphClientState),
      };
      await saveSubscription(googleChannel);
      await saveSubscription(graphSubscription);
      const routed = await integrationsForAccount('slack', BENCH_SLACK_TEAM);
      if (routed.length !== 1) throw new Error(`expected 1 integration routed for Slack team ${BENCH_SLACK_TEAM}, found ${routed.length}`);

      // Deliveries, distinct per phase and index. Message numbers and Graph items repeat only in the duplicate rows.
      const slackBody = (phase: string, index: number) => slackMessageBody(BENCH_SLACK_TEAM, `Ev${tag}${phase}${index}`.toUpperCase(), index);
      const googleDelivery = (phase: string, index: number, token: string): Delivery => ({
        headers: {
          'x-goog-channel-id': googleChannel.subscriptionId,
          'x-goog-channel-token': token,
          'x-goog-channel-expiration': new Date(now + 6 * 24 * 3600_000).toUTCString(),
          'x-goog-resource-id': googleChannel.resourceId,
          'x-goog-resource-state': 'exists',
          'x-goog-resource-uri': 'https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json',
          'x-goog-message-number': String((phase === 'warmup' ? 1_000_000 : 2_000_000) + index),
        },
        body: '',
      });
      const changeTypes = ['created', 'updated', 'deleted'] as const;
      const graphDelivery = (phase: string, index: number, clientState: string): Delivery => ({
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          value: [
            {
              subscriptionId: graphSubscription.subscriptionId,
              subscriptionExpirationDateTime: graphSubscription.channelExpiresAt,
              changeType: changeTypes[index % changeTypes.length],
              resource: `Users/bench-${tag}/Events/${phase}-${index}`,
              resourceData: { '@odata.type': '#Microsoft.Graph.Event', id: `${phase}-${index}` },
              clientState,
              tenantId: '2d6f3c4e-0b1a-4c5d-9e8f-7a6b5c4d3e2f',
            },
          ],
        }),
      });
      // A well-formed v0 signature made with another secret: the handler computes the HMAC and compares.
      const forgedSecret = randomBytes(24).toString('hex');
      const scenarios: Scenario[] = [
        {
          provider: 'slack',
          kind: 'accepted',
          what: 'signed message event, new event_id',
          functionName: 'slack-webhook',
          invoke: slackHandler,
          expectedStatus: 200,
          expectedReceived: 1,
          delivery: (phase, index) => {
            const body = slackBody(phase, index);
            return { body, headers: slackHeaders(slackSecret, body) };
          },
        },
        {
          provider: 'slack',
          kind: 'duplicate',
          what: 'same event_id again (retry, re-signed)',
          functionName: 'slack-webhook',
          invoke: slackHandler,
          expectedStatus: 200,
          expectedReceived: 0,
          delivery: (phase, index) => {
            const body = slackBody(phase, index);
            return { body, headers: slackHeaders(slackSecret, body, { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' }) };
          },
        },
        {
          provider: 'slack',
          kind: 'rejected',
          what: 'forged signature (another secret)',
          functionName: 'slack-webhook',
          invoke: slackHandler,
          expectedStatus: 401,
          expectedReceived: 0,
          delivery: (phase, index) => {
            const body = slackBody(`x${phase}`, index);
            return { body, headers: slackHeaders(forgedSecret, body) };
          },
        },
        {
          provider: 'google',
          kind: 'accepted',
          what: 'channel notification, new message number',
          functionName: 'google-webhook',
          invoke: googleHandler,
          expectedStatus: 200,
          expectedReceived: 1,
          delivery: (phase, index) => googleDelivery(phase, index, googleToken),
        },
        {
          provider: 'google',
          kind: 'duplicate',
          what: 'same message number again',
          functionName: 'google-webhook',
          invoke: googleHandler,
          expectedStatus: 200,
          expectedReceived: 0,
          delivery: (phase, index) => googleDelivery(phase, index, googleToken),
        },
        {
          provider: 'google',
          kind: 'rejected',
          what: 'wrong X-Goog-Channel-Token',
          functionName: 'google-webhook',
          invoke: googleHandler,
          expectedStatus: 401,
          expectedReceived: 0,
          delivery: (phase, index) => googleDelivery(`x${phase}`, index, `${googleToken}x`),
        },
        {
          provider: 'microsoft',
          kind: 'accepted',
          what: 'change notification, new changeType/resource',
          functionName: 'microsoft-webhook',
          invoke: microsoftHandler,
          expectedStatus: 202,
          expectedReceived: 1,
          delivery: (phase, index) => graphDelivery(phase, index, graphClientState),
        },
        {
          provider: 'microsoft',
          kind: 'duplicate',
          what: 'same item again',
          functionName: 'microsoft-webhook',
          invoke: microsoftHandler,
          expectedStatus: 202,
          expectedReceived: 0,
          delivery: (phase, index) => graphDelivery(phase, index, graphClientState),
        },
        {
          provider: 'microsoft',
          kind: 'rejected',
          what: 'wrong clientState',
          functionName: 'microsoft-webhook',
          invoke: microsoftHandler,
          expectedStatus: 401,
          expectedReceived: 0,
          delivery: (phase, index) => graphDelivery(`x${phase}`, index, `${graphClientState}x`),
        },
      ];

      const toEvent = (scenario: Scenario, delivery: Delivery) =>
        functionUrlEvent({
          method: 'POST',
          rawPath: '/',
          rawQueryString: '',
          headers: { host: `${scenario.functionName}.lambda-url.local`, 'user-agent': `bench-${scenario.provider}`, ...delivery.headers },
          body: Buffer.from(delivery.body),
          sourceIp: '192.0.2.10',
        });

      async function measure(scenario: Scenario, limit: number): Promise<Measured> {
        // Warm-up (not reported): first-use costs, and the JIT. Its statuses must already be right.
        for (let index = 0; index < warmup; index += 1) {
          const result = await scenario.invoke(toEvent(scenario, scenario.delivery('warmup', index)), lambdaContext(scenario.functionName, 10));
          if (statusOf(result) !== scenario.expectedStatus) {
            throw new Error(`${scenario.provider} ${scenario.kind}: warm-up answered ${statusOf(result)}, expected ${scenario.expectedStatus}: ${JSON.stringify(result).slice(0, 300)}`);
          }
        }
        const dynamoBefore = { total: counter.total(), refused: counter.failed(), byCommand: counter.byCommand() };
        const busBefore = bus.counts();
        const logBytesBefore = output?.bytes() ?? 0;
        const latencyMs: number[] = [];
        const statuses: Record<string, number> = {};
        let asExpected = 0;
        let spentMs = 0;
        for (let index = 0; index < limit && spentMs < budgetMs; index += 1) {
          const event = toEvent(scenario, scenario.delivery('measured', index));
          const lambda = lambdaContext(scenario.functionName, 10);
          const started = performance.now();
          const result = await scenario.invoke(event, lambda);
          const elapsed = performance.now() - started;
          latencyMs.push(elapsed);
          spentMs += elapsed;
          const status = statusOf(result);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === scenario.expectedStatus) asExpected += 1;
        }
        const byCommand = counter.byCommand();
        return {
          scenario,
          n: latencyMs.length,
          asExpected,
          statuses,
          latencyMs,
          dynamo: {
            total: counter.total() - dynamoBefore.total,
            refused: counter.failed() - dynamoBefore.refused,
            byCommand: Object.fromEntries(
              Object.entries(byCommand)
                .map(([name, count]): [string, number] => [name, count - (dynamoBefore.byCommand[name] ?? 0)])
                .filter(([, count]) => count > 0),
            ),
          },
          bus: busDelta(busBefore, bus.counts()),
          logBytes: (output?.bytes() ?? 0) - logBytesBefore,
        };
      }

      // In order: accepted first, so its measured deliveries exist when the duplicate row repeats them.
      // The duplicate row replays only what its accepted row delivered.
      const measured: Measured[] = [];
      const acceptedCount = new Map<Provider, number>();
      for (const scenario of scenarios) {
        const limit = scenario.kind === 'duplicate' ? (acceptedCount.get(scenario.provider) ?? 0) : n;
        context.log(`webhook-verify: ${scenario.provider} ${scenario.kind}: ${warmup} warm-up + up to ${limit} invocations`);
        const result = await measure(scenario, limit);
        if (scenario.kind === 'accepted') acceptedCount.set(scenario.provider, result.n);
        measured.push(result);
      }

      const received = (m: Measured) => m.bus.accepted['integration.webhook.received'] ?? 0;
      const unexpected = measured.filter(
        (m) => m.asExpected !== m.n || received(m) !== m.scenario.expectedReceived * m.n || m.bus.refused > 0,
      );
      const rows: Row[] = measured.map((m) => {
        const meanMs = mean(m.latencyMs);
        return {
          provider: m.scenario.provider,
          kind: m.scenario.kind,
          what: m.scenario.what,
          n: m.n,
          expected: m.scenario.expectedStatus,
          asExpected: m.asExpected,
          opsPerSecond: 1000 / meanMs,
          p50: percentile(m.latencyMs, 50),
          p99: percentile(m.latencyMs, 99),
          max: max(m.latencyMs),
          dynamo: perOp(m.dynamo.byCommand, m.n),
          refused: m.dynamo.refused / m.n,
          putEvents: m.bus.calls / m.n,
          events: m.bus.entries / m.n,
          received: received(m),
          logBytes: m.logBytes / m.n,
        };
      });

      return {
        tables: [
          {
            title: `Webhook verify-and-ack in process (real handlers, Function URL events, dynalite in memory, local EventBridge; ${
              Number.isFinite(budgetMs) ? `up to ${n} sequential invocations or ${budgetMs / 1000} s of handler time per row` : `${n} sequential invocations per row`
            }, after ${warmup} warm-up)`,
            columns: [
              { key: 'provider', title: 'provider' },
              { key: 'kind', title: 'case' },
              { key: 'what', title: 'delivery' },
              { key: 'n', title: 'n' },
              { key: 'expected', title: 'status' },
              { key: 'asExpected', title: 'as expected' },
              { key: 'opsPerSecond', title: 'ops/s', digits: 0 },
              { key: 'p50', title: 'p50 ms', digits: 2 },
              { key: 'p99', title: 'p99 ms', digits: 2 },
              { key: 'max', title: 'max ms', digits: 1 },
              { key: 'dynamo', title: 'DynamoDB per op' },
              { key: 'refused', title: 'refused/op', maxDigits: 2 },
              { key: 'putEvents', title: 'PutEvents/op', maxDigits: 2 },
              { key: 'events', title: 'events/op', maxDigits: 2 },
              { key: 'received', title: 'webhook.received' },
              { key: 'logBytes', title: 'log B/op', digits: 0 },
            ],
            rows,
            notes: [
              'each accepted event makes DynamoDB round trips (the routing query: Slack by team, Google/Graph by subscription; the dedupe conditional put) and one PutEvents to the local bus, all over HTTP on 127.0.0.1 to in-process servers; on AWS these are network round trips and dominate',
              `the handlers log at ${logLevel} as deployed (building each JSON line is timed; log B/op is what they printed, discarded here)`,
              'ops/s = 1000 / mean latency of sequential invocations (one warm container, one request at a time); latency is `await handler(event, context)` only, not building and signing the event',
              'duplicate: the accepted row\'s deliveries again; the dedupe put is refused (refused/op) and nothing is published. rejected: Slack refuses on the HMAC before any I/O; Google and Graph first look the subscription up (1 query) and compare the SHA-256 of the presented secret in constant time',
              `as expected: invocations answered with the status shown; webhook.received: events of that type the bus accepted during the row (n expected for accepted rows, 0 otherwise). Unexpected rows: ${
                unexpected.length === 0 ? 'none' : unexpected.map((m) => `${m.scenario.provider} ${m.scenario.kind} (${JSON.stringify(m.statuses)})`).join(', ')
              }`,
            ],
          },
        ],
        data: {
          maxInvocationsPerRow: n,
          rowBudgetMs: Number.isFinite(budgetMs) ? budgetMs : null,
          warmup,
          rows: measured.map(
            (m): Json => ({
              provider: m.scenario.provider,
              case: m.scenario.kind,
              delivery: m.scenario.what,
              n: m.n,
              expectedStatus: m.scenario.expectedStatus,
              asExpected: m.asExpected,
              statuses: m.statuses,
              latencyMs: {
                mean: mean(m.latencyMs),
                p50: percentile(m.latencyMs, 50),
                p90: percentile(m.latencyMs, 90),
                p99: percentile(m.latencyMs, 99),
                max: max(m.latencyMs),
              },
              opsPerSecond: 1000 / mean(m.latencyMs),
              dynamoRequests: m.dynamo,
              bus: { putEventsCalls: m.bus.calls, accepted: m.bus.accepted, refused: m.bus.refused },
              logBytes: m.logBytes,
            }),
          ),
          unexpectedRows: unexpected.length,
        },
      };
    } finally {
      output?.restore();
      restoreEnv();
    }
  },
};
