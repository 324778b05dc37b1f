/**
 * Event names are a public contract (README): the HR platform subscribes to them.
 * All are published on the integrations bus with source `hr.integrations`.
 */
export const EVENT_SOURCE = 'hr.integrations';

export const eventTypes = [
  'integration.connected',
  'integration.disconnected',
  'integration.health_changed',
  'integration.alert',
  'integration.synced',
  'integration.webhook.received',
  'SyncRequested',
] as const;

export type EventType = (typeof eventTypes)[number];

export interface DomainEvent {
  type: EventType;
  orgId: string;
  integrationId?: string;
  detail: Record<string, unknown>;
}
