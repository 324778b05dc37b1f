import { changeHealth } from '../../domain/health';
import type { IntegrationRecord } from '../../domain/integration';
import { disconnectDeadGrant, findVisibleIntegration } from '../../domain/lifecycle';
import type { DomainEvent } from '../../events/catalog';
import { publishEvents } from '../../events/publisher';
import { logger } from '../../logging/logger';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries, type WebhookLogEntry } from '../../webhooks/delivery-log';
import { integrationsForAccount } from '../../webhooks/routing';
import { interpretSlackEvent, isSlackTestEvent, type SlackEnvelope } from './webhook';

/**
 * What an accepted Slack event does: routed by team (and `webhook_id`) to
 * every integration of that workspace, processed once per `event_id`,
 * published as `integration.webhook.received` (plus `SyncRequested` where
 * data changed), and a revocation or uninstall disconnects.
 */
export type SlackDeliveryOutcome = 'processed' | 'duplicate' | 'unrouted' | 'dropped' | 'ignored' | 'test';

export async function processSlackDelivery(envelope: SlackEnvelope, webhookId?: string): Promise<SlackDeliveryOutcome> {
  if (envelope.type !== 'event_callback') return 'ignored';
  const routed = (await integrationsForAccount('slack', envelope.team_id)).filter(
    (integration) => integration.status !== 'erased' && (webhookId === undefined || integration.id === webhookId),
  );
  if (routed.length === 0) {
    // A 200 all the same: an error would make Slack retry, and then disable the subscription.
    logger.info('Slack event for a team with no integration', { teamId: envelope.team_id, eventType: envelope.event.type });
    return 'unrouted';
  }
  const log = (integrations: readonly IntegrationRecord[], outcome: WebhookLogEntry['outcome'], extra: Partial<WebhookLogEntry> = {}) =>
    recordDeliveries(
      integrations.map((integration) => ({ orgId: integration.orgId, integrationId: integration.id, providerId: 'slack', eventType: envelope.event.type, outcome, ...extra })),
    );
  // Signed with the app's signing secret like every event: a test is verified as Slack's own are, then only logged.
  if (isSlackTestEvent(envelope)) {
    const target = routed.filter((integration) => integration.id === webhookId);
    if (target.length === 0 || !(await claimDelivery('slack', envelope.event_id))) return 'duplicate';
    await log(target, 'test', { test: true });
    return 'test';
  }
  // Webhooks are off for a disconnected integration: acknowledged, counted, never published.
  const integrations = (await Promise.all(routed.map((integration) => findVisibleIntegration(integration.orgId, integration.id)))).filter(
    (integration): integration is IntegrationRecord => integration?.status === 'active',
  );
  if (integrations.length === 0) {
    logger.info('Slack event dropped: the integration is not connected', { teamId: envelope.team_id, eventType: envelope.event.type, dropped: routed.length });
    await log(routed, 'dropped', { reason: 'integration_not_connected' });
    return 'dropped';
  }
  if (!(await claimDelivery('slack', envelope.event_id))) {
    await log(integrations, 'duplicate');
    return 'duplicate';
  }

  try {
    const meaning = interpretSlackEvent(envelope.event);
    const events: DomainEvent[] = [];
    for (const integration of integrations) {
      events.push({
        type: 'integration.webhook.received',
        orgId: integration.orgId,
        integrationId: integration.id,
        detail: {
          providerId: 'slack',
          eventId: envelope.event_id,
          eventType: envelope.event.type,
          ...(meaning.kind === 'data' ? { normalizedType: meaning.normalizedType, data: meaning.data } : {}),
        },
      });
      if (meaning.kind === 'data' && meaning.resource) {
        events.push({
          type: 'SyncRequested',
          orgId: integration.orgId,
          integrationId: integration.id,
          detail: { providerId: 'slack', resource: meaning.resource, trigger: 'webhook', cause: meaning.normalizedType },
        });
      }
      if (meaning.kind === 'revoked' && meaning.botRevoked) await disconnectDeadGrant(integration, meaning.reason);
      else if (meaning.kind === 'revoked') await changeHealth(integration.orgId, integration.id, { healthStatus: 'degraded', reason: 'user_token_revoked' });
    }
    await publishEvents(events);
  } catch (error) {
    await releaseDelivery('slack', envelope.event_id);
    throw error;
  }
  await log(integrations, 'accepted');
  return 'processed';
}
