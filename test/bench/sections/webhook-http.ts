import autocannon, { type Result } from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as z from 'zod';
import { envWithoutAppConfig, errorMessage, startChild, tail, type LongRunningChild } from '../lib/child';
import { loadFigures } from '../lib/load';
import type { Json, Row, Section } from '../lib/types';
import { slackHeaders, slackMessageBody } from '../lib/webhooks';

/**
 * Signed Slack Events API deliveries through the local runtime: the server
 * (test/bench/serve.ts with BENCH_SEED=slack) runs in a child process with a
 * Slack integration for team T0BENCH and a known signing secret; autocannon
 * in this process builds every request afresh (`setupRequest`: a new
 * event_id, the current timestamp, its v0 signature), so each one is verified,
 * claimed, routed and published, never deduplicated.
 *
 * Loss check. The local bus keeps only its last 1000 events, so the child
 * tallies every Slack `integration.webhook.received` entry its bus accepts, by
 * event id, and hands the ids over IPC after the run. This process records the
 * status of every response by event id (`onResponse`; with pipelining 1 the
 * client's context is the request just answered). An acknowledged (2xx) event
 * missing from the bus would be a loss: the handler said yes and published
 * nothing. Published events without a 2xx are the requests still in flight when
 * autocannon stopped (the server finishes them), at most one per connection.
 */
const WARMUP_SECONDS = 2;
const PATH = '/api/webhooks/slack';
const SETTLE_TIMEOUT_MS = 10_000;

const readySchema = z.object({
  url: z.url(),
  orgId: z.string().min(1),
  slack: z.object({ teamId: z.string().min(1), integrationId: z.string().min(1), signingSecret: z.string().min(8) }),
});
type Ready = z.infer<typeof readySchema>;

const tallySchema = z.object({
  type: z.literal('webhook-tally'),
  id: z.number(),
  entries: z.number().int(),
  duplicates: z.number().int(),
  eventIds: z.array(z.string()),
  cpuMicros: z.object({ user: z.number(), system: z.number() }),
});
type Tally = z.infer<typeof tallySchema>;

const busEventsSchema = z.object({
  events: z.array(z.looseObject({ 'detail-type': z.string(), detail: z.unknown() })),
});

let tallyRequests = 0;

/** Asks the child for its tally of Slack events on the bus (ids starting with `prefix`). */
function askTally(child: ChildProcess, prefix: string): Promise<Tally> {
  const id = (tallyRequests += 1);
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      const parsed = tallySchema.safeParse(message);
      if (!parsed.success || parsed.data.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(parsed.data);
    };
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error('the server did not answer the tally request within 10 s'));
    }, 10_000);
    child.on('message', onMessage);
    child.send({ type: 'webhook-tally', id, prefix });
  });
}

/** Polls the tally until it stops growing (the server has finished what was in flight). */
async function settledTally(child: ChildProcess, prefix: string): Promise<{ tally: Tally; waitedMs: number }> {
  const started = performance.now();
  let last = await askTally(child, prefix);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = await askTally(child, prefix);
    if (next.entries === last.entries || performance.now() - started > SETTLE_TIMEOUT_MS) return { tally: next, waitedMs: performance.now() - started };
    last = next;
  }
}

interface Load {
  result: Result;
  /** Requests built (and sent): one event id each. */
  generated: number;
  /** Status of each answered request, by event id. */
  statuses: Map<string, number>;
}

/** `duration` seconds of signed Slack events, each with a new event id `<prefix><n>`. */
async function slackLoad(ready: Ready, prefix: string, connections: number, duration: number): Promise<Load> {
  let generated = 0;
  const statuses = new Map<string, number>();
  const { teamId, signingSecret } = ready.slack;
  const result = await autocannon({
    url: `${ready.url}${PATH}`,
    connections,
    duration,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: PATH,
        setupRequest: (request, context) => {
          const sequence = generated;
          generated += 1;
          const eventId = `${prefix}${sequence.toString(36).toUpperCase()}`;
          const body = slackMessageBody(teamId, eventId, sequence);
          context.eventId = eventId;
          return { ...request, method: 'POST', path: PATH, body, headers: { ...request.headers, ...slackHeaders(signingSecret, body) } };
        },
        onResponse: (status, _body, context) => {
          if (typeof context.eventId === 'string') statuses.set(context.eventId, status);
        },
      },
    ],
  });
  return { result, generated, statuses };
}

/** The first delivery must be a 200 that reaches the bus, or nothing is timed. */
async function checkFirstDelivery(ready: Ready, child: ChildProcess, prefix: string): Promise<void> {
  const eventId = `${prefix}0`;
  const body = slackMessageBody(ready.slack.teamId, eventId, 0);
  const response = await fetch(`${ready.url}${PATH}`, { method: 'POST', headers: slackHeaders(ready.slack.signingSecret, body), body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`first signed Slack event answered ${response.status}: ${text.slice(0, 300)}`);
  const forged = await fetch(`${ready.url}${PATH}`, { method: 'POST', headers: slackHeaders('not-the-signing-secret', body), body });
  await forged.text();
  if (forged.status !== 401) throw new Error(`a forged Slack signature answered ${forged.status}, expected 401`);
  const { tally } = await settledTally(child, prefix);
  if (!tally.eventIds.includes(eventId)) throw new Error('the first signed Slack event answered 200 but never reached the bus');
}

export const webhookHttpSection: Section = {
  id: 'webhook-http',
  title: 'Signed Slack events through the local server',
  async run(context) {
    const { connections, durationSeconds } = context.options;
    context.log('webhook-http: starting the local server in a child process (BENCH_SEED=slack)');
    let server: LongRunningChild<Ready> | undefined;
    try {
      server = await startChild(process.execPath, ['--import', 'tsx', 'test/bench/serve.ts'], {
        cwd: context.root,
        env: { ...envWithoutAppConfig(), BENCH_SEED: 'slack', BENCH_SEED_COUNT: '0', BENCH_ORG_ID: 'bench-webhooks' },
        marker: 'BENCH_SERVER',
        schema: readySchema,
        timeoutMs: 120_000,
      });
      const { ready, process: child } = server;
      const tag = randomBytes(3).toString('hex').toUpperCase();
      const prefixes = { check: `EV${tag}C`, warmup: `EV${tag}W`, measured: `EV${tag}M` };

      await checkFirstDelivery(ready, child, prefixes.check);
      context.log(`webhook-http: first signed event 200 and on the bus; ${WARMUP_SECONDS}s warm-up, then ${durationSeconds}s x ${connections} connections`);
      await slackLoad(ready, prefixes.warmup, connections, WARMUP_SECONDS);
      await settledTally(child, prefixes.warmup);

      const before = await askTally(child, prefixes.measured);
      const ownCpuBefore = process.cpuUsage();
      const load = await slackLoad(ready, prefixes.measured, connections, durationSeconds);
      const ownCpu = process.cpuUsage(ownCpuBefore);
      const { tally, waitedMs } = await settledTally(child, prefixes.measured);
      const { result } = load;
      // CPU seconds per wall second over the measured run (the server's includes the settle wait, when it is idle).
      const cpuSeconds = (usage: { user: number; system: number }) => (usage.user + usage.system) / 1e6;
      const serverCpu = cpuSeconds(tally.cpuMicros) - cpuSeconds(before.cpuMicros);

      // Every acknowledged event must be on the bus, exactly once.
      const published = new Set(tally.eventIds);
      const acked = [...load.statuses].filter(([, status]) => status >= 200 && status < 300).map(([eventId]) => eventId);
      const ackedSet = new Set(acked);
      const lost = acked.filter((eventId) => !published.has(eventId));
      const unacked = [...published].filter((eventId) => !ackedSet.has(eventId));
      const answeredNon2xx = [...load.statuses.values()].filter((status) => status < 200 || status >= 300).length;
      const duplicates = tally.duplicates - before.duplicates;

      // The bus's own history (last 1000 events): the measured Slack events in it are distinct and acknowledged.
      const history = busEventsSchema.parse(await (await fetch(`${ready.url}/_local/events`)).json()).events;
      const recentIds = history.flatMap((event) => {
        const detail = event.detail as { providerId?: unknown; eventId?: unknown } | null;
        return event['detail-type'] === 'integration.webhook.received' && detail?.providerId === 'slack' && typeof detail.eventId === 'string' && detail.eventId.startsWith(prefixes.measured)
          ? [detail.eventId]
          : [];
      });
      const recentDistinct = new Set(recentIds).size;
      const recentAcked = recentIds.filter((eventId) => ackedSet.has(eventId)).length;

      const loadRows: Row[] = [
        { metric: 'events/s (average)', value: result.requests.average },
        { metric: 'events/s (stddev)', value: result.requests.stddev },
        { metric: 'latency ms p50', value: result.latency.p50 },
        { metric: 'latency ms p97.5', value: result.latency.p97_5 },
        { metric: 'latency ms p99', value: result.latency.p99 },
        { metric: 'latency ms average', value: result.latency.average },
        { metric: 'latency ms max', value: result.latency.max },
        { metric: 'requests completed', value: result.latency.totalCount },
        { metric: '2xx', value: result['2xx'] },
        { metric: 'non-2xx', value: result.non2xx },
        { metric: 'errors', value: result.errors },
        { metric: 'timeouts', value: result.timeouts },
        { metric: 'server CPU ms per event', value: (serverCpu * 1000) / Math.max(1, tally.eventIds.length) },
        { metric: 'server CPU (cores busy)', value: serverCpu / result.duration },
        { metric: 'load generator CPU (cores busy)', value: cpuSeconds(ownCpu) / result.duration },
      ];
      const lossRows: Row[] = [
        { check: 'requests sent (distinct event ids)', value: load.generated, expected: null },
        { check: 'answered 2xx (by event id, this process)', value: acked.length, expected: `= autocannon 2xx (${result['2xx']})` },
        { check: 'answered non-2xx', value: answeredNon2xx, expected: '0' },
        { check: 'distinct event ids on the bus (child tally)', value: published.size, expected: null },
        { check: 'acknowledged but not on the bus (lost)', value: lost.length, expected: '0' },
        { check: 'on the bus twice or more (duplicates)', value: duplicates, expected: '0' },
        { check: 'on the bus without a 2xx (in flight at stop)', value: unacked.length, expected: `<= ${connections} connections` },
        { check: `/_local/events: measured Slack events in the last ${history.length}`, value: recentIds.length, expected: null },
        { check: '/_local/events: of those, distinct', value: recentDistinct, expected: `= ${recentIds.length}` },
        { check: '/_local/events: of those, acknowledged 2xx', value: recentAcked, expected: `= ${recentIds.length} minus in flight` },
      ];
      const ok = lost.length === 0 && duplicates === 0 && answeredNon2xx === 0 && acked.length === result['2xx'] && unacked.length <= connections && recentDistinct === recentIds.length;

      return {
        tables: [
          {
            title: `Signed Slack events through the local server (POST ${PATH}, team T0BENCH, ${connections} connections, ${durationSeconds}s after ${WARMUP_SECONDS}s warm-up)`,
            columns: [
              { key: 'metric', title: 'metric' },
              { key: 'value', title: 'Slack event_callback (message)', maxDigits: 1 },
            ],
            rows: loadRows,
            notes: [
              'every request is distinct: a new event_id, the current timestamp and its v0 HMAC-SHA256 signature, built per request by autocannon setupRequest',
              'each accepted event: signature check, routing query by team + dedupe conditional put (dynalite in the child) and PutEvents to the local bus (an HTTP request back into the same server)',
              `autocannon and the signing (this process) and the server with dynalite (one child process) share ${availableParallelism()} CPUs; the handler logs one INFO line per event to the child's stdout, drained by this process`,
              "latencies are autocannon's (whole milliseconds); CPU is process.cpuUsage() of each process (user + system, all threads) over the measured run",
            ],
          },
          {
            title: 'Slack events: acknowledged vs published (zero-loss check)',
            columns: [
              { key: 'check', title: 'check' },
              { key: 'value', title: 'count' },
              { key: 'expected', title: 'expected' },
            ],
            rows: lossRows,
            notes: [
              'the bus history (/_local/events) keeps only the last 1000 events, so the child also tallies every Slack integration.webhook.received entry its bus accepts, by event id, and hands the ids over IPC; this process records each response\'s status by event id (onResponse)',
              `after the run the tally was polled until it stopped growing (${(waitedMs / 1000).toFixed(1)} s), so requests the server was still finishing are counted`,
              `result: ${ok ? 'no acknowledged event lost, none published twice' : 'UNEXPECTED, see the rows above'}`,
            ],
          },
        ],
        data: {
          connections,
          ...loadFigures(result),
          cpuSeconds: { server: serverCpu, loadGenerator: cpuSeconds(ownCpu) },
          statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count])),
          loss: {
            generated: load.generated,
            acknowledged: acked.length,
            answeredNon2xx,
            publishedDistinct: published.size,
            lost: lost.length,
            lostSample: lost.slice(0, 10),
            duplicates,
            publishedWithoutAck: unacked.length,
            busHistory: { size: history.length, measuredSlackEvents: recentIds.length, distinct: recentDistinct, acknowledged: recentAcked },
            ok,
          } satisfies Json,
        },
      };
    } catch (error) {
      const stderr = server ? tail(server.stderr(), 3) : '';
      throw new Error(`${errorMessage(error)}${stderr ? ` (server stderr: ${stderr})` : ''}`);
    } finally {
      await server?.stop();
    }
  },
};
