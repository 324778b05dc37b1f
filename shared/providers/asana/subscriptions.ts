import { randomBytes } from 'node:crypto';
import { MalformedProviderResponseError } from '../../oauth/errors';
import type { OAuthClient } from '../../oauth/types';
import { findSubscription, type SubscriptionRecord } from '../../store/subscriptions';
import type { ProviderSubscriptions, SubscriptionStore } from '../../webhooks/types';
import { activeProjectGids, asanaClient } from './client';
import { ASANA_CHANNEL } from './webhook';
import { ASANA_CREDENTIAL } from './oauth';

/**
 * Asana webhooks, one per project (Asana sends a project's task changes to
 * the project's webhook). Each subscription is saved, awaiting its
 * handshake, before the webhook is asked for: Asana sends the X-Hook-Secret
 * to the target while the create call is in flight, and our webhook keeps
 * that secret on the subscription it names (`?subscription=` in the target
 * URL, 256 random bits after the project gid). Asana webhooks do not expire,
 * but Asana drops one whose deliveries keep failing, so each is checked daily
 * (the renewal job) and made again when it is gone. Projects made after the
 * connection get no webhook until the next reconnect; the sync covers them.
 */
/** A check a day: the renewal job renews a day before `channelExpiresAt`. */
const CHECK_EVERY_MS = 2 * 24 * 60 * 60 * 1000;
/** At most this many projects get a webhook per integration; the scheduled sync covers the rest. */
const MAX_WEBHOOKS = 50;

export const asanaTarget = (webhookUrl: string, subscriptionId: string) => {
  const url = new URL(webhookUrl);
  url.searchParams.set('subscription', subscriptionId);
  return url.toString();
};

/** The project a subscription watches: the part of its id before the random suffix. */
export const projectOf = (subscription: Pick<SubscriptionRecord, 'subscriptionId'>) => subscription.subscriptionId.split('-')[0] ?? '';

async function create(accessToken: string, owner: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>, project: string, webhookUrl: string, store: SubscriptionStore): Promise<SubscriptionRecord> {
  const pending: SubscriptionRecord = {
    orgId: owner.orgId,
    integrationId: owner.integrationId,
    providerId: 'asana',
    channel: ASANA_CHANNEL,
    subscriptionId: `${project}-${randomBytes(32).toString('base64url')}`,
    resource: 'tasks',
    awaiting: 'handshake',
    channelExpiresAt: new Date(Date.now() + CHECK_EVERY_MS).toISOString(),
    createdAt: new Date().toISOString(),
  };
  await store.save(pending);
  const webhook = await asanaClient.createWebhook(accessToken, project, asanaTarget(webhookUrl, pending.subscriptionId)).catch(async (error: unknown) => {
    await store.remove(pending);
    throw error;
  });
  // The handshake stored the secret on the item while the call was in flight.
  const shaken = await findSubscription(ASANA_CHANNEL, pending.subscriptionId);
  if (!shaken?.signingKey) throw new MalformedProviderResponseError('asana', 'webhook (created without a handshake)');
  return { ...shaken, resourceId: webhook.gid };
}

export const asanaSubscriptions: ProviderSubscriptions = {
  credentialKind: ASANA_CREDENTIAL,

  async open({ accessToken, integration, webhookUrl, store }) {
    const opened: SubscriptionRecord[] = [];
    for (const project of await activeProjectGids(accessToken, MAX_WEBHOOKS)) opened.push(await create(accessToken, { orgId: integration.orgId, integrationId: integration.id }, project, webhookUrl, store));
    return opened;
  },

  async renew({ accessToken, subscription, webhookUrl, store }) {
    const existing = subscription.resourceId ? await asanaClient.webhook(accessToken, subscription.resourceId) : undefined;
    if (existing && existing.active !== false) return { ...subscription, channelExpiresAt: new Date(Date.now() + CHECK_EVERY_MS).toISOString() };
    return create(accessToken, subscription, projectOf(subscription), webhookUrl, store);
  },

  async close({ accessToken, subscription }: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord }) {
    if (subscription.resourceId) await asanaClient.deleteWebhook(accessToken, subscription.resourceId);
  },
};
