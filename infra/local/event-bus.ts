import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { LoadedFunction } from './functions';

/**
 * The local EventBridge: it answers PutEvents on the wire (the publisher's SDK
 * client points here through AWS_ENDPOINT_URL_EVENTBRIDGE) and delivers each
 * event to the manifest's `event` targets asynchronously, with the stack's
 * retry policy; what still fails lands in a visible dead-letter list.
 *
 * A target with a `reservedConcurrency` runs at most that many invocations at
 * once, as in AWS; the events beyond it wait their turn, the local stand-in
 * for AWS throttling and retrying them for hours. The wait is bounded
 * (`throttledWaitMs`, 5 minutes): an event still waiting then is
 * dead-lettered as throttled, so an overloaded target shows instead of
 * hanging the runtime.
 */
const putEventsSchema = z.object({
  Entries: z
    .array(
      z.object({
        Source: z.string().min(1),
        DetailType: z.string().min(1),
        Detail: z.string().min(2),
        EventBusName: z.string().optional(),
        Time: z.number().optional(),
        Resources: z.array(z.string()).optional(),
      }),
    )
    .min(1)
    .max(10),
});

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface DeadLetter {
  event: BusEvent;
  target: string;
  error: string;
  failedAt: string;
}

interface AwsJsonResponse {
  statusCode: number;
  body: unknown;
}

export interface LocalEventBusOptions {
  /** Retries after the first attempt, with exponential backoff from `retryBaseMs`. */
  retryAttempts: number;
  retryBaseMs: number;
  historySize: number;
  /** How long an event may wait for a target at its reserved concurrency before it is dead-lettered. */
  throttledWaitMs: number;
  /** Where failed attempts, dead letters and alerts are reported for the operator (the console); silent without. */
  log?: (line: string) => void;
}

const defaults: LocalEventBusOptions = { retryAttempts: 4, retryBaseMs: 250, historySize: 1000, throttledWaitMs: 5 * 60_000 };

class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
}

/** A target's reserved concurrency: invocations past it wait in order, each for `waitMs` at most. */
class ConcurrencyGate {
  private running = 0;
  private readonly queue: Array<{ grant: () => void }> = [];

  constructor(
    private readonly limit: number,
    private readonly waitMs: number,
  ) {}

  /** Resolves when the invocation may run; rejects with ThrottledError after waiting `waitMs`. */
  enter(): Promise<void> {
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(entry), 1);
        reject(new ThrottledError(`throttled: still waiting after ${this.waitMs} ms at reserved concurrency ${this.limit}`));
      }, this.waitMs);
      this.queue.push(entry);
    });
  }

  /** The invocation ended: its place goes to the next waiting one. */
  leave(): void {
    const next = this.queue.shift();
    if (next) next.grant();
    else this.running -= 1;
  }
}

const describeError = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error');

/** `SyncRequested (org acme, integration int_…)`: which event, in the operator's terms. */
export function describeEvent(event: BusEvent): string {
  const detail = (event.detail ?? {}) as Record<string, unknown>;
  const about = [
    typeof detail.orgId === 'string' ? `org ${detail.orgId}` : undefined,
    typeof detail.integrationId === 'string' ? `integration ${detail.integrationId}` : undefined,
  ].filter(Boolean);
  return about.length > 0 ? `${event['detail-type']} (${about.join(', ')})` : event['detail-type'];
}

/** Detail fields worth a glance on an alert line, without the ids `describeEvent` already names. */
function alertFields(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([name, value]) => name !== 'orgId' && name !== 'integrationId' && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'))
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(' ');
}

export class LocalEventBus {
  private readonly history: BusEvent[] = [];
  private readonly dead: DeadLetter[] = [];
  /** Deliveries under way (retries included), with what each is, for a shutdown's report. */
  private readonly inFlight = new Map<Promise<void>, string>();
  private readonly options: LocalEventBusOptions;
  /** One gate per target with a reserved concurrency. */
  private readonly gates = new Map<string, ConcurrencyGate>();
  private delivering = true;
  private abandoned = false;

  constructor(
    private readonly busName: string,
    private readonly targets: readonly LoadedFunction[],
    options: Partial<LocalEventBusOptions> = {},
  ) {
    this.options = { ...defaults, ...options };
    for (const target of targets) {
      const limit = target.spec.reservedConcurrency;
      if (limit !== undefined) this.gates.set(target.spec.name, new ConcurrencyGate(limit, this.options.throttledWaitMs));
    }
  }

  /** The AWSEvents.PutEvents operation (awsJson1_1). */
  putEvents(body: unknown): AwsJsonResponse {
    const parsed = putEventsSchema.safeParse(body);
    if (!parsed.success) {
      return { statusCode: 400, body: { __type: 'ValidationException', message: parsed.error.issues[0]?.message } };
    }
    const entries = parsed.data.Entries.map((entry) => {
      if ((entry.EventBusName ?? 'default') !== this.busName) {
        return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist.` };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType,
        source: entry.Source,
        account: '000000000000',
        time: new Date((entry.Time ?? Date.now() / 1000) * 1000).toISOString(),
        region: process.env.AWS_REGION ?? 'local',
        resources: entry.Resources ?? [],
        detail,
      };
      this.record(event);
      this.report(event);
      this.deliver(event);
      return { EventId: event.id };
    });
    const failed = entries.filter((entry) => 'ErrorCode' in entry).length;
    return { statusCode: 200, body: { FailedEntryCount: failed, Entries: entries } };
  }

  recentEvents(): readonly BusEvent[] {
    return this.history;
  }

  deadLetters(): readonly DeadLetter[] {
    return this.dead;
  }

  /** Resolves when every delivery under way has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.keys()]);
  }

  /** What is being delivered now: `sync-worker ← SyncRequested (org …, integration …)`. */
  deliveries(): string[] {
    return [...this.inFlight.values()];
  }

  /**
   * Shutdown: events are still accepted (work finishing now may publish) but
   * no new delivery starts, so the drain ends; deliveries under way finish,
   * retries included. What is not delivered is said on the console.
   */
  stopDelivering(): void {
    this.delivering = false;
  }

  /**
   * Shutdown deadline: the deliveries still running are given up. Their
   * failures from now on (the store and the providers going away under them)
   * are not retried, dead-lettered or reported: they are not the target's.
   */
  abandon(): void {
    this.delivering = false;
    this.abandoned = true;
  }

  private record(event: BusEvent): void {
    this.history.push(event);
    if (this.history.length > this.options.historySize) this.history.shift();
  }

  /** Alerts, and integrations turning degraded or disconnected (or recovering), get a line of their own. */
  private report(event: BusEvent): void {
    const log = this.options.log;
    if (!log) return;
    const detail = (event.detail ?? {}) as Record<string, unknown>;
    if (event['detail-type'] === 'integration.alert') {
      log(`[local] ALERT ${describeEvent(event)}: ${alertFields(detail)}`);
    } else if (event['detail-type'] === 'integration.health_changed') {
      const { from, to, reason } = detail;
      const trouble = to === 'degraded' || to === 'disconnected';
      const recovery = to === 'healthy' && (from === 'degraded' || from === 'disconnected');
      if (trouble || recovery) log(`[local] ${describeEvent(event)}: ${String(from)} → ${String(to)} (${String(reason)})`);
    }
  }

  private deliver(event: BusEvent): void {
    for (const target of this.targets) {
      const trigger = target.spec.trigger;
      if (trigger.kind !== 'event' || !trigger.detailTypes.some((detailType) => detailType === event['detail-type'])) continue;
      if (!this.delivering) {
        this.options.log?.(`[local] stopping: ${describeEvent(event)} not delivered to ${target.spec.name}; the next dispatch (or a manual sync) picks the work up`);
        continue;
      }
      const delivery = this.invokeWithRetries(target, event).finally(() => this.inFlight.delete(delivery));
      this.inFlight.set(delivery, `${target.spec.name} ← ${describeEvent(event)}`);
    }
  }

  /** One invocation, within the target's reserved concurrency (a backoff between retries holds no place). */
  private async invokeGated(target: LoadedFunction, event: BusEvent): Promise<unknown> {
    const gate = this.gates.get(target.spec.name);
    if (!gate) return target.invoke(event);
    await gate.enter();
    try {
      return await target.invoke(event);
    } finally {
      gate.leave();
    }
  }

  private async invokeWithRetries(target: LoadedFunction, event: BusEvent): Promise<void> {
    const attempts = this.options.retryAttempts + 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const result = await this.invokeGated(target, event);
        // A failure the target does not throw (it would not pass on retrying, e.g. a refusal) is still a failure to see.
        if (typeof result === 'object' && result !== null && 'outcome' in result && result.outcome === 'failed') {
          this.options.log?.(`[local] ${target.spec.name} on ${describeEvent(event)}: failed, not retried (a retry would not help)`);
        }
        return;
      } catch (error) {
        if (this.abandoned) return;
        const what = `${target.spec.name} failed on ${describeEvent(event)}, attempt ${attempt} of ${attempts}: ${describeError(error)}`;
        // Throttled past the wait: retrying would only queue it again.
        if (attempt >= attempts || error instanceof ThrottledError) {
          this.dead.push({ event, target: target.spec.name, error: describeError(error), failedAt: new Date().toISOString() });
          this.options.log?.(`[local] ${what}`);
          this.options.log?.(`[local] DEAD LETTER ${describeEvent(event)} → ${target.spec.name}: gave up after ${attempt} attempts (GET /_local/dead-letters)`);
          return;
        }
        const backoffMs = this.options.retryBaseMs * 2 ** (attempt - 1);
        this.options.log?.(`[local] ${what}; retrying in ${backoffMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        if (this.abandoned) return;
      }
    }
  }
}
