import type { BenchContext } from './types';

/**
 * The local EventBridge for sections that publish from the bench process
 * itself (test/support/event-bus.ts on its own port). The publisher's SDK
 * client (shared/events/publisher.ts) is created once per process and keeps
 * the endpoint it saw first, and the bus name is read once too
 * (shared/config.ts), so every in-process section shares this one bus: it is
 * started on first use, stays up for the whole run and is closed at the end.
 * It counts what it accepted, so sections read differences between snapshots
 * (its event history keeps only the last 1000).
 */
export const BENCH_BUS = 'hr-integrations-bench';

export interface BusCounts {
  /** PutEvents requests answered. */
  calls: number;
  /** Entries accepted, per detail type. */
  accepted: Record<string, number>;
  /** Entries refused (wrong bus, malformed detail). */
  refused: number;
}

export interface InProcessBus {
  endpoint: string;
  eventsOfType(type: string): readonly { 'detail-type': string; detail: unknown }[];
  counts(): BusCounts;
}

/** What happened on the bus between two snapshots. */
export function busDelta(before: BusCounts, after: BusCounts): BusCounts & { entries: number } {
  const accepted = Object.fromEntries(
    Object.entries(after.accepted)
      .map(([type, count]): [string, number] => [type, count - (before.accepted[type] ?? 0)])
      .filter(([, count]) => count > 0),
  );
  return {
    calls: after.calls - before.calls,
    accepted,
    refused: after.refused - before.refused,
    entries: Object.values(accepted).reduce((sum, count) => sum + count, 0),
  };
}

export function inProcessEventBus(context: BenchContext): Promise<InProcessBus> {
  return context.memo('in-process-event-bus', async () => {
    const { startTestEventBus } = await import('../../support/event-bus');
    // Sets AWS_ENDPOINT_URL_EVENTBRIDGE for the rest of the run.
    const started = await startTestEventBus(BENCH_BUS);
    context.onCleanup(() => started.close());
    process.env.EVENT_BUS_NAME = BENCH_BUS;
    const endpoint = process.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? '';

    let calls = 0;
    let refused = 0;
    const accepted = new Map<string, number>();
    const { bus } = started;
    const putEvents = bus.putEvents.bind(bus);
    bus.putEvents = (body: unknown) => {
      const result = putEvents(body);
      calls += 1;
      const requested = (body as { Entries?: { DetailType?: unknown }[] } | null)?.Entries ?? [];
      const answered = (result.body as { Entries?: { EventId?: string }[] } | null)?.Entries ?? [];
      answered.forEach((entry, index) => {
        if (entry.EventId === undefined) {
          refused += 1;
          return;
        }
        const type = String(requested[index]?.DetailType ?? 'unknown');
        accepted.set(type, (accepted.get(type) ?? 0) + 1);
      });
      return result;
    };
    return {
      endpoint,
      eventsOfType: started.eventsOfType,
      counts: () => ({ calls, accepted: Object.fromEntries(accepted), refused }),
    };
  });
}
