import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { LoadedFunction } from './functions';

/**
 * The local EventBridge: it answers PutEvents on the wire (the publisher's SDK
 * client points here through AWS_ENDPOINT_URL_EVENTBRIDGE) and delivers each
 * event to the manifest's `event` targets asynchronously, with the stack's
 * retry policy; what still fails lands in a visible dead-letter list.
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

export class LocalEventBus {
  private readonly history: BusEvent[] = [];
  private readonly dead: DeadLetter[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly busName: string,
    private readonly targets: readonly LoadedFunction[],
    private readonly options: { retryAttempts: number; retryBaseMs: number; historySize: number } = {
      retryAttempts: 4,
      retryBaseMs: 250,
      historySize: 1000,
    },
  ) {}

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
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private record(event: BusEvent): void {
    this.history.push(event);
    if (this.history.length > this.options.historySize) this.history.shift();
  }

  private deliver(event: BusEvent): void {
    for (const target of this.targets) {
      const trigger = target.spec.trigger;
      if (trigger.kind !== 'event' || trigger.detailType !== event['detail-type']) continue;
      const delivery = this.invokeWithRetries(target, event).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async invokeWithRetries(target: LoadedFunction, event: BusEvent): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await target.invoke(event);
        return;
      } catch (error) {
        if (attempt >= this.options.retryAttempts) {
          this.dead.push({
            event,
            target: target.spec.name,
            error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error',
            failedAt: new Date().toISOString(),
          });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.retryBaseMs * 2 ** attempt));
      }
    }
  }
}
