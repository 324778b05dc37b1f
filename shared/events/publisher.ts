import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { inBatches } from '../concurrency';
import { eventsConfig } from '../config';
import { EVENT_SOURCE, type DomainEvent } from './catalog';
import { awsClientConfig, boundedByDeadline } from '../deadline';

/**
 * Publishes domain events with EventBridge PutEvents: on AWS to the
 * integrations bus, locally to the local runtime's bus (the SDK's
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` points there), so the code path is the same.
 * PutEvents takes at most 10 entries and may fail some of them; those are
 * retried a few times and an error is thrown if any is still refused.
 */
const MAX_ENTRIES_PER_CALL = 10;
const MAX_ATTEMPTS = 3;
const CONCURRENT_CALLS = 8;

let client: EventBridgeClient | undefined;
const eventBridge = () => (client ??= boundedByDeadline(new EventBridgeClient(awsClientConfig())));

export class EventPublishError extends Error {
  constructor(readonly failedCount: number, readonly errorCodes: string[]) {
    super(`EventBridge refused ${failedCount} event(s): ${[...new Set(errorCodes)].join(', ')}`);
    this.name = 'EventPublishError';
  }
}

function toEntry(event: DomainEvent, eventBusName: string, now: Date): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: EVENT_SOURCE,
    DetailType: event.type,
    Time: now,
    Detail: JSON.stringify({
      orgId: event.orgId,
      ...(event.integrationId === undefined ? {} : { integrationId: event.integrationId }),
      ...event.detail,
    }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function putBatch(entries: PutEventsRequestEntry[]): Promise<void> {
  let pending = entries;
  let errorCodes: string[] = [];
  for (let attempt = 1; attempt <= MAX_ATTEMPTS && pending.length > 0; attempt += 1) {
    if (attempt > 1) await sleep(Math.random() * 50 * 2 ** attempt);
    const result = await eventBridge().send(new PutEventsCommand({ Entries: pending }));
    if (!result.FailedEntryCount) return;
    const results = result.Entries ?? [];
    errorCodes = results.flatMap((entry) => (entry.ErrorCode ? [entry.ErrorCode] : []));
    // Result entries are in request order; a failed one carries an ErrorCode.
    pending = pending.filter((_, index) => results[index]?.ErrorCode !== undefined);
  }
  if (pending.length > 0) throw new EventPublishError(pending.length, errorCodes);
}

export async function publishEvents(events: readonly DomainEvent[], now: Date = new Date()): Promise<void> {
  if (events.length === 0) return;
  const { eventBusName } = eventsConfig();
  const entries = events.map((event) => toEntry(event, eventBusName, now));
  const batches: PutEventsRequestEntry[][] = [];
  for (let start = 0; start < entries.length; start += MAX_ENTRIES_PER_CALL) batches.push(entries.slice(start, start + MAX_ENTRIES_PER_CALL));
  // A few calls in flight: 100,000 events must fit a dispatcher run, without exceeding EventBridge's rate.
  await inBatches(batches, putBatch, CONCURRENT_CALLS);
}
