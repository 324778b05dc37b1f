import * as z from 'zod';
import { parseEnv } from '../config';
import { changeHealth } from '../domain/health';
import type { IntegrationRecord } from '../domain/integration';
import { raiseAlert } from '../domain/alerts';
import { logger } from '../logging/logger';
import { oauthClient } from '../oauth/clients';
import { errorCodeOf } from '../oauth/errors';
import { withAccessToken } from '../oauth/token-manager';
import type { OAuthClient } from '../oauth/types';
import { findProvider } from '../providers/registry';
import { getIntegration } from '../store/integrations';
import { keys } from '../store/keys';
import { expireIfErased } from '../store/retention';
import { deleteSubscription, recordRenewalFailure, saveSubscription, subscriptionsDueForRenewal, subscriptionsOf } from '../store/subscriptions';

/**
 * The push-subscription lifecycle of an integration: opened after connect,
 * renewed before it lapses (hourly job), closed at disconnect. Failures never
 * undo a connect or a disconnect: they degrade health with a reason, and a
 * lapse raises `integration.alert`.
 */
const store = { save: saveSubscription, remove: deleteSubscription };


/** Where a provider's webhook is reachable: WEBHOOK_URL_<PROVIDER> (the Function URL in AWS, the local runtime's path locally). */
export function webhookUrl(providerId: string): string | undefined {
  const name = `WEBHOOK_URL_${providerId.toUpperCase()}`;
  return parseEnv(z.object({ [name]: z.url().optional() }), { [name]: process.env[name] || undefined })[name];
}

export async function openSubscriptions(integration: IntegrationRecord, client: OAuthClient, accessToken: string): Promise<void> {
  const subscriptions = findProvider(integration.providerId)?.subscriptions;
  const url = webhookUrl(integration.providerId);
  if (!subscriptions) return;
  if (!url) {
    logger.warn('No webhook URL configured; real-time updates are off for this provider', { providerId: integration.providerId });
    return;
  }
  try {
    for (const record of await subscriptions.open({ client, accessToken, integration, webhookUrl: url, store })) await saveSubscription(record);
  } catch (error) {
    logger.warn('Opening push subscriptions failed', { integrationId: integration.id, errorCode: errorCodeOf(error) });
    await changeHealth(integration.orgId, integration.id, { healthStatus: 'degraded', reason: 'webhook_setup_failed' });
  }
}

export async function closeSubscriptions(integration: IntegrationRecord, client: OAuthClient | undefined, accessToken: string | undefined): Promise<void> {
  const subscriptions = findProvider(integration.providerId)?.subscriptions;
  for (const subscription of await subscriptionsOf(integration.orgId, integration.id)) {
    if (subscriptions && client && accessToken) {
      try {
        await subscriptions.close({ client, accessToken, subscription });
      } catch (error) {
        logger.warn('Stopping a push subscription failed; it will lapse on its own', { integrationId: integration.id, errorCode: errorCodeOf(error) });
      }
    }
    await deleteSubscription(subscription);
  }
}

export interface RenewalResult {
  due: number;
  renewed: number;
  dropped: number;
  failed: number;
}

export async function renewDueSubscriptions(now: Date = new Date()): Promise<RenewalResult> {
  const due = await subscriptionsDueForRenewal(now);
  const result: RenewalResult = { due: due.length, renewed: 0, dropped: 0, failed: 0 };
  for (const subscription of due) {
    const integration = await getIntegration(subscription.orgId, subscription.integrationId);
    const provider = findProvider(subscription.providerId);
    const client = provider?.oauth ? oauthClient(subscription.providerId, provider.oauth) : undefined;
    const url = webhookUrl(subscription.providerId);
    if (!integration || integration.status !== 'active' || !provider?.subscriptions || !client || !url) {
      await deleteSubscription(subscription);
      result.dropped += 1;
      continue;
    }
    const subscriptions = provider.subscriptions;
    try {
      const renewed = await withAccessToken(integration, subscriptions.credentialKind, (accessToken) =>
        subscriptions.renew({ client, accessToken, subscription, webhookUrl: url, store }),
      );
      if (renewed) {
        // Switch routing to the new channel before stopping the old one, so no notification is lost.
        // A success clears the failure count the renewal may have carried over from the record it renewed.
        await saveSubscription({ ...renewed, renewalFailures: undefined, lastRenewalError: undefined });
        if (await expireIfErased(renewed.orgId, renewed.integrationId, [keys.subscription(renewed.integrationId, renewed.subscriptionId)])) {
          // Erased while renewing: the tokens are gone, so the new channel lapses on its own; its item is purged with the rest.
          result.dropped += 1;
          continue;
        }
      }
      // The old channel stops once replaced, or when nothing replaces it (what it watched is gone).
      if (renewed?.subscriptionId !== subscription.subscriptionId) {
        await deleteSubscription(subscription);
        await withAccessToken(integration, subscriptions.credentialKind, (accessToken) =>
          subscriptions.close({ client, accessToken, subscription }),
        ).catch((error: unknown) => logger.warn('Stopping the replaced channel failed', { errorCode: errorCodeOf(error) }));
      }
      // A channel renewed, or no longer wanted, is what clears a failing one (a probe or a sync does not: health.ts).
      if (subscription.renewalFailures !== undefined) {
        await changeHealth(integration.orgId, integration.id, { healthStatus: 'healthy', reason: renewed ? 'channel_renewed' : 'channel_dropped', evidence: 'channel' });
      }
      result[renewed ? 'renewed' : 'dropped'] += 1;
    } catch (error) {
      result.failed += 1;
      const lapsed = Date.parse(subscription.channelExpiresAt) <= now.getTime();
      logger.warn('Renewing a push subscription failed', { integrationId: integration.id, lapsed, errorCode: errorCodeOf(error) });
      await recordRenewalFailure(subscription, errorCodeOf(error));
      await changeHealth(integration.orgId, integration.id, { healthStatus: 'degraded', reason: 'subscription_renewal_failed' });
      if (lapsed) {
        await raiseAlert({
          orgId: integration.orgId,
          integrationId: integration.id,
          kind: 'webhook_lapsed',
          reason: 'webhook_lapsed',
          message: `The ${subscription.resource} push channel lapsed and could not be renewed: real-time updates are off until it is.`,
          detail: { resource: subscription.resource },
        });
      }
    }
  }
  return result;
}
