import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../shared/events/catalog';
import { EventPublishError, publishEvents } from '../../shared/events/publisher';

const eventBridge = mockClient(EventBridgeClient);
beforeEach(() => eventBridge.reset());

const at = new Date('2026-11-25T12:00:00.000Z');
const event = (n: number): DomainEvent => ({
  type: 'SyncRequested',
  orgId: 'org-1',
  integrationId: `int_${n}`,
  detail: { trigger: 'scheduled' },
});

describe('event publisher (EventBridge PutEvents)', () => {
  it('sends batches of at most 10 entries, each exactly shaped', async () => {
    eventBridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
    }));
    await publishEvents(Array.from({ length: 23 }, (_, n) => event(n)), at);
    const calls = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(calls.map((entries) => entries.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.[0]).toEqual({
      EventBusName: 'hr-integrations-test',
      Source: 'hr.integrations',
      DetailType: 'SyncRequested',
      Time: at,
      Detail: JSON.stringify({ orgId: 'org-1', integrationId: 'int_0', trigger: 'scheduled' }),
    });
  });

  it('retries only the entries EventBridge refused', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }] })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }] });
    await publishEvents([event(0), event(1), event(2)], at);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.Entries?.map((entry) => JSON.parse(entry.Detail ?? '{}').integrationId)).toEqual(['int_1']);
  });

  it('throws when entries are still refused after the retries, so nothing is lost silently', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'x' }] });
    await expect(publishEvents([event(0)], at)).rejects.toBeInstanceOf(EventPublishError);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(3);
  });

  it('makes no call for no events', async () => {
    await publishEvents([], at);
    expect(eventBridge.calls()).toHaveLength(0);
  });
});
