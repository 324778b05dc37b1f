/**
 * Asana webhooks, one per project (Asana sends a project's task changes to
 * the project's webhook), for at most MAX_WEBHOOKS projects of an
 * integration. Each subscription is saved, awaiting its handshake, before
 * the webhook is asked for: Asana sends the X-Hook-Secret to the target
 * while the create call is in flight, and our webhook keeps that secret on
 * the subscription it names (`?subscription=` in the target URL, 256 random
 * bits after the project gid).
 *
 * Asana webhooks do not expire, but Asana drops one whose deliveries keep
 * failing, and projects come and go after the connection. So each
 * subscription is checked daily (the renewal job calls `renew`):
 * - its project archived or deleted: nothing renews it (the job forgets the
 *   subscription and deletes the webhook);
 * - its webhook gone or inactive: a new one is made;
 * - the check of the integration's first subscription (by id) also gives
 *   every active project without a webhook one, up to MAX_WEBHOOKS in all.
 *   A project whose webhook cannot be made is logged and left to the next
 *   day's check: it does not fail the renewal of the channel being checked,
 *   whose own webhook is fine.
 * A project made after the connection thus has a webhook within a day; the
 * scheduled sync covers it until then. An integration left with no
 * subscription at all (no project at connect, or every one archived since)
 * has nothing for the check to run on: its projects get webhooks at the
 * next reconnect, and the sync covers them.
 *
 * Why the daily check and not the sync, though the sync lists projects on
 * every pass: a sync's pull knows a token and a cursor, not the integration,
 * the webhook URL or the subscription store; and trouble with webhooks is
 * the renewal's to report (counted on the channel, health degraded, an
 * alert on a lapse), where a failing sync would report a data problem.
 *
 * Races: checks of one integration run one at a time under their own claim
 * (check-claim.ts), not the lifecycle lease, which a user's disconnect
 * waits for (a check calls Asana for as long as its creations take). Each
 * check decides from the table as it is under the claim, where a
 * subscription is saved before its webhook is asked for. A project gets a
 * webhook only when no subscription names it; a subscription that a newer
 * one for the same project replaced (a check that came first), or that a
 * disconnect removed, is dropped, not renewed. Two renewal runs racing thus
 * make one webhook per project. A disconnect may run during a creation: the
 * webhook is saved on its subscription first (a disconnect that lists it
 * later stops it), then kept only if the subscription is still there and
 * the integration still connected; otherwise the check deletes it itself.
 */
import { randomBytes } from 'node:crypto';
import { logger } from '../../logging/logger';
import { errorCodeOf, MalformedProviderResponseError } from '../../oauth/errors';
import type { OAuthClient } from '../../oauth/types';
import { getIntegration } from '../../store/integrations';
import { getSubscription, subscriptionsOf, type SubscriptionRecord } from '../../store/subscriptions';
import type { ProviderSubscriptions, SubscriptionStore } from '../../webhooks/types';
import { withWebhookCheckClaim } from './check-claim';
import { activeProjectGids, asanaClient } from './client';
import { ASANA_CHANNEL, asanaTargetQuery } from './webhook';
import { ASANA_CREDENTIAL } from './oauth';

/** A check a day: the renewal job renews a day before `channelExpiresAt`. */
const CHECK_EVERY_MS = 2 * 24 * 60 * 60 * 1000;
/** At most this many projects get a webhook per integration; the scheduled sync covers the rest. */
const MAX_WEBHOOKS = 50;

const nextCheck = () => new Date(Date.now() + CHECK_EVERY_MS).toISOString();

export const asanaTarget = (webhookUrl: string, record: SubscriptionRecord) => {
  const url = new URL(webhookUrl);
  for (const [name, value] of Object.entries(asanaTargetQuery(record))) url.searchParams.set(name, value);
  return url.toString();
};

/** The project a subscription watches: the part of its id before the random suffix. */
export const projectOf = (subscription: Pick<SubscriptionRecord, 'subscriptionId'>) => subscription.subscriptionId.split('-')[0] ?? '';

/**
 * Makes the project's webhook and saves it on its subscription. Undefined when a disconnect removed the
 * subscription or ended the integration meanwhile: the webhook it could not see is deleted here.
 */
async function create(accessToken: string, owner: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>, project: string, webhookUrl: string, store: SubscriptionStore): Promise<SubscriptionRecord | undefined> {
  const pending: SubscriptionRecord = {
    orgId: owner.orgId,
    integrationId: owner.integrationId,
    providerId: 'asana',
    channel: ASANA_CHANNEL,
    subscriptionId: `${project}-${randomBytes(32).toString('base64url')}`,
    resource: 'tasks',
    awaiting: 'handshake',
    channelExpiresAt: nextCheck(),
    createdAt: new Date().toISOString(),
  };
  await store.save(pending);
  const webhook = await asanaClient.createWebhook(accessToken, project, asanaTarget(webhookUrl, pending)).catch(async (error: unknown) => {
    await store.remove(pending);
    throw error;
  });
  // The handshake stored the secret on the item while the call was in flight.
  const shaken = await getSubscription(pending);
  const made = shaken?.signingKey ? { ...shaken, resourceId: webhook.gid } : undefined;
  if (made) await store.save(made);
  // Saved before the status is read: a disconnect from here on finds the webhook on the subscription and stops it.
  if (made && (await getIntegration(owner.orgId, owner.integrationId))?.status === 'active') return made;
  await asanaClient.deleteWebhook(accessToken, webhook.gid);
  await store.remove(pending);
  if (shaken && !made) throw new MalformedProviderResponseError('asana', 'webhook (created without a handshake)');
  return undefined;
}

/** A later subscription for the same project whose handshake completed: it took over (a check made it while `current`'s webhook was gone). */
const replaces = (record: SubscriptionRecord, current: SubscriptionRecord) =>
  record !== current && projectOf(record) === projectOf(current) && record.signingKey !== undefined && record.createdAt > current.createdAt;

/** Gives each active project that no subscription names a webhook, while the integration has fewer than MAX_WEBHOOKS. */
async function addMissingWebhooks(accessToken: string, owner: SubscriptionRecord, records: SubscriptionRecord[], webhookUrl: string, store: SubscriptionStore): Promise<void> {
  const room = MAX_WEBHOOKS - records.length;
  if (room <= 0) return;
  // New projects' trouble is not the checked channel's: the next daily check retries them, the sync covers them meanwhile.
  const retryTomorrow = (what: string, project?: string) => (error: unknown) => {
    logger.warn(`${what} failed; the next daily check retries`, { integrationId: owner.integrationId, ...(project ? { project } : {}), errorCode: errorCodeOf(error) });
    return undefined;
  };
  const watched = new Set(records.map(projectOf));
  const projects = (await activeProjectGids(accessToken, MAX_WEBHOOKS).catch(retryTomorrow('Listing Asana projects for new webhooks'))) ?? [];
  for (const project of projects.filter((gid) => !watched.has(gid)).slice(0, room)) {
    await create(accessToken, owner, project, webhookUrl, store).catch(retryTomorrow('Making a new Asana project webhook', project));
  }
}

export const asanaSubscriptions: ProviderSubscriptions = {
  credentialKind: ASANA_CREDENTIAL,

  async open({ accessToken, integration, webhookUrl, store }) {
    const opened: SubscriptionRecord[] = [];
    for (const project of await activeProjectGids(accessToken, MAX_WEBHOOKS)) {
      const made = await create(accessToken, { orgId: integration.orgId, integrationId: integration.id }, project, webhookUrl, store);
      if (made) opened.push(made);
    }
    return opened;
  },

  renew({ accessToken, subscription, webhookUrl, store }) {
    return withWebhookCheckClaim(subscription.orgId, subscription.integrationId, async () => {
      const records = (await subscriptionsOf(subscription.orgId, subscription.integrationId)).sort((a, b) => a.subscriptionId.localeCompare(b.subscriptionId));
      const current = records.find((record) => record.subscriptionId === subscription.subscriptionId);
      if (!current || records.some((record) => replaces(record, current))) return undefined;
      if (records[0] === current) await addMissingWebhooks(accessToken, current, records, webhookUrl, store);
      const project = await asanaClient.project(accessToken, projectOf(current));
      if (!project || project.archived) return undefined;
      const existing = current.resourceId ? await asanaClient.webhook(accessToken, current.resourceId) : undefined;
      if (existing && existing.active !== false) return { ...current, channelExpiresAt: nextCheck() };
      return create(accessToken, current, projectOf(current), webhookUrl, store);
    });
  },

  async close({ accessToken, subscription }: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord }) {
    if (subscription.resourceId) await asanaClient.deleteWebhook(accessToken, subscription.resourceId);
  },
};
