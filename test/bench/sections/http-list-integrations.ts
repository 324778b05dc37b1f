import autocannon, { type Result } from 'autocannon';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { mintLocalToken } from '../../../infra/local/jwt';
import { errorMessage, startChild, tail, type LongRunningChild } from '../lib/child';
import { loadFigures } from '../lib/load';
import type { Json, Row, Section } from '../lib/types';

/**
 * Throughput and latency of `GET /api/integrations` through the local runtime
 * (router, local JWT authorizer, Lambda event mapping, middy, zod, dynalite in
 * memory), with `GET /api/integrations/providers` (same path minus DynamoDB)
 * as a baseline. The server runs in its own process (test/bench/serve.ts) so
 * autocannon does not share its event loop; on a 2-core machine autocannon and
 * the server (with dynalite inside it) still compete for CPU, so these are
 * figures to compare runs of this bench, not a production capacity.
 */
const SEEDED = 25;
const WARMUP_SECONDS = 2;

const readySchema = z.object({
  url: z.string().url(),
  jwtSecret: z.string().min(32),
  orgId: z.string().min(1),
  seeded: z.number().int(),
});
type Ready = z.infer<typeof readySchema>;

const listBodySchema = z.object({ success: z.literal(true), data: z.array(z.object({ id: z.string() })) });

interface Endpoint {
  path: string;
  label: string;
  /** Items the first response must hold (undefined: at least one). */
  expectItems?: number;
}

const endpoints: readonly Endpoint[] = [
  { path: '/api/integrations', label: 'GET /api/integrations', expectItems: SEEDED },
  { path: '/api/integrations/providers', label: 'providers (no DynamoDB)' },
];

/** The first response must be a 200 envelope with the expected items, or nothing is timed. */
async function checkFirstResponse(url: string, token: string, endpoint: Endpoint): Promise<{ items: number; bytes: number }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  const what = `first GET ${endpoint.path}`;
  if (response.status !== 200) throw new Error(`${what} answered ${response.status}: ${text.slice(0, 300)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${what} did not return JSON: ${text.slice(0, 300)}`);
  }
  const parsed = listBodySchema.safeParse(json);
  if (!parsed.success) throw new Error(`${what} returned an unexpected body: ${text.slice(0, 300)}`);
  const items = parsed.data.data.length;
  if (endpoint.expectItems !== undefined ? items !== endpoint.expectItems : items === 0) {
    throw new Error(`${what} returned ${items} items, expected ${endpoint.expectItems ?? 'at least 1'}`);
  }
  return { items, bytes: Buffer.byteLength(text) };
}

async function load(url: string, token: string, connections: number, duration: number): Promise<Result> {
  return autocannon({ url, connections, duration, timeout: 10, headers: { authorization: `Bearer ${token}` } });
}

interface Measured {
  endpoint: Endpoint;
  items: number;
  bytes: number;
  result: Result;
}

const METRICS: readonly { metric: string; value: (m: Measured) => number }[] = [
  { metric: 'requests/s (average)', value: (m) => m.result.requests.average },
  { metric: 'requests/s (stddev)', value: (m) => m.result.requests.stddev },
  { metric: 'latency ms p50', value: (m) => m.result.latency.p50 },
  { metric: 'latency ms p97.5', value: (m) => m.result.latency.p97_5 },
  { metric: 'latency ms p99', value: (m) => m.result.latency.p99 },
  { metric: 'latency ms average', value: (m) => m.result.latency.average },
  { metric: 'latency ms max', value: (m) => m.result.latency.max },
  { metric: 'requests completed', value: (m) => m.result.latency.totalCount },
  { metric: '2xx', value: (m) => m.result['2xx'] },
  { metric: 'non-2xx', value: (m) => m.result.non2xx },
  { metric: 'errors', value: (m) => m.result.errors },
  { metric: 'timeouts', value: (m) => m.result.timeouts },
  { metric: 'items per response', value: (m) => m.items },
  { metric: 'bytes per response', value: (m) => m.bytes },
];

function toJson(measured: Measured): Json {
  const { result } = measured;
  return {
    path: measured.endpoint.path,
    ...loadFigures(result),
    items: measured.items,
    responseBytes: measured.bytes,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stat]) => [code, stat.count])),
  };
}

export const httpListIntegrationsSection: Section = {
  id: 'http',
  title: 'GET /api/integrations through the local server',
  async run(context) {
    const { connections, durationSeconds } = context.options;
    context.log('http: starting the local server in a child process (dynalite in memory, seeding)');
    let server: LongRunningChild<Ready> | undefined;
    try {
      server = await startChild(process.execPath, ['--import', 'tsx', 'test/bench/serve.ts'], {
        cwd: context.root,
        env: { ...process.env, BENCH_SEED_COUNT: String(SEEDED), BENCH_ORG_ID: 'bench-org' },
        marker: 'BENCH_SERVER',
        schema: readySchema,
        timeoutMs: 120_000,
      });
      const { ready } = server;
      const token = await mintLocalToken(ready.jwtSecret, { orgId: ready.orgId, role: 'admin', sub: 'bench-admin', ttlSeconds: 3600 });

      const measured: Measured[] = [];
      for (const endpoint of endpoints) {
        const url = `${ready.url}${endpoint.path}`;
        const first = await checkFirstResponse(url, token, endpoint);
        context.log(`http: ${endpoint.path}: first response 200 with ${first.items} items; ${WARMUP_SECONDS}s warm-up, then ${durationSeconds}s x ${connections} connections`);
        await load(url, token, connections, WARMUP_SECONDS);
        measured.push({ endpoint, ...first, result: await load(url, token, connections, durationSeconds) });
      }

      const rows: Row[] = METRICS.map(({ metric, value }) => ({
        metric,
        ...Object.fromEntries(measured.map((m, index) => [`e${index}`, value(m)])),
      }));
      return {
        tables: [
          {
            title: `Local server under load (${SEEDED} integrations seeded, ${connections} connections, ${durationSeconds}s each after ${WARMUP_SECONDS}s warm-up)`,
            columns: [
              { key: 'metric', title: 'metric' },
              ...measured.map((m, index) => ({ key: `e${index}`, title: m.endpoint.label, maxDigits: 1 })),
            ],
            rows,
            notes: [
              `autocannon (this process) and the server with dynalite (one child process) share ${availableParallelism()} CPUs`,
              "latencies are autocannon's (whole milliseconds)",
            ],
          },
        ],
        data: { connections, seededIntegrations: SEEDED, endpoints: measured.map(toJson) },
      };
    } catch (error) {
      const stderr = server ? tail(server.stderr(), 3) : '';
      throw new Error(`${errorMessage(error)}${stderr ? ` (server stderr: ${stderr})` : ''}`);
    } finally {
      await server?.stop();
    }
  },
};
