import { randomBytes, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { parseEnv } from '../../config';
import { MalformedProviderResponseError, ProviderError } from '../../oauth/errors';
import { providerFetch } from '../../oauth/http';
import type { OAuthClient } from '../../oauth/types';
import { hashSecret } from '../../store/secret-hash';
import type { SubscriptionRecord } from '../../store/subscriptions';
import type { ProviderSubscriptions, SubscriptionStore } from '../../webhooks/types';

/**
 * Google push channels: Calendar `events.watch` on the primary calendar,
 * Drive `changes.watch` from a start page token, and Gmail `users.watch`
 * when a Pub/Sub topic is configured (GMAIL_PUBSUB_TOPIC). Channels cannot
 * be extended: renewal opens a new channel and stops the old one.
 */
const channelResponse = z.object({ id: z.string(), resourceId: z.string(), expiration: z.union([z.string(), z.number()]).optional() });
const startPageToken = z.object({ startPageToken: z.string() });
const gmailWatch = z.object({ historyId: z.union([z.string(), z.number()]), expiration: z.union([z.string(), z.number()]) });
const WEEK_MS = 7 * 24 * 3600_000;
const gmailTopicEnv = z.object({
  GMAIL_PUBSUB_TOPIC: z.string().regex(/^projects\/[^/]+\/topics\/[^/]+$/, 'must be projects/<project>/topics/<topic>').optional(),
});

async function call(accessToken: string, url: string, body?: unknown, method = 'POST') {
  const response = await providerFetch('google', url, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) throw new ProviderError('google', 'authError', 401, 'unauthorized');
  if (response.status >= 400) throw new ProviderError('google', `http_${response.status}`, response.status, 'rejected');
  return response.json;
}

const expiryOf = (expiration: string | number | undefined) =>
  new Date(expiration === undefined ? Date.now() + WEEK_MS : Number(expiration)).toISOString();

async function watch(
  client: OAuthClient,
  accessToken: string,
  resource: 'calendar' | 'drive',
  base: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>,
  webhookUrl: string,
  store: SubscriptionStore,
  cursor?: string,
): Promise<SubscriptionRecord> {
  const secret = randomBytes(32).toString('base64url');
  const channel = { id: randomUUID(), type: 'web_hook', address: webhookUrl, token: secret };
  // We name the channel, so it is stored before Google's immediate `sync` message can arrive.
  const provisional: SubscriptionRecord = {
    orgId: base.orgId,
    integrationId: base.integrationId,
    providerId: 'google',
    channel: 'google',
    subscriptionId: channel.id,
    resource,
    secretHash: hashSecret(secret),
    channelExpiresAt: expiryOf(undefined),
    createdAt: new Date().toISOString(),
  };
  await store.save(provisional);
  try {
    return await openChannel(client, accessToken, resource, provisional, channel, cursor);
  } catch (error) {
    await store.remove(provisional);
    throw error;
  }
}

async function openChannel(
  client: OAuthClient,
  accessToken: string,
  resource: 'calendar' | 'drive',
  provisional: SubscriptionRecord,
  channel: { id: string; type: string; address: string; token: string },
  cursor?: string,
): Promise<SubscriptionRecord> {
  let pageToken = cursor;
  let url = `${client.hosts.www}/calendar/v3/calendars/primary/events/watch`;
  if (resource === 'drive') {
    if (!pageToken) {
      const parsed = startPageToken.safeParse(await call(accessToken, `${client.hosts.www}/drive/v3/changes/startPageToken`, undefined, 'GET'));
      if (!parsed.success) throw new MalformedProviderResponseError('google', 'startPageToken');
      pageToken = parsed.data.startPageToken;
    }
    url = `${client.hosts.www}/drive/v3/changes/watch?pageToken=${encodeURIComponent(pageToken)}`;
  }
  const parsed = channelResponse.safeParse(await call(accessToken, url, channel));
  if (!parsed.success) throw new MalformedProviderResponseError('google', 'channel');
  return {
    ...provisional,
    resourceId: parsed.data.resourceId,
    channelExpiresAt: expiryOf(parsed.data.expiration),
    ...(pageToken ? { cursor: pageToken } : {}),
  };
}

/** Gmail asks for `users.watch` to be renewed daily. */
export const GMAIL_RENEW_EVERY_MS = 24 * 60 * 60 * 1000;

async function watchGmail(client: OAuthClient, accessToken: string, base: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>, address: string) {
  const { GMAIL_PUBSUB_TOPIC: topicName } = parseEnv(gmailTopicEnv, { GMAIL_PUBSUB_TOPIC: process.env.GMAIL_PUBSUB_TOPIC || undefined });
  if (!topicName) return undefined;
  const parsed = gmailWatch.safeParse(await call(accessToken, `${client.hosts.gmail}/gmail/v1/users/me/watch`, { topicName }));
  if (!parsed.success) throw new MalformedProviderResponseError('google', 'gmail watch');
  return {
    ...base,
    providerId: 'google',
    channel: 'google-gmail',
    subscriptionId: address.toLowerCase(),
    resource: 'gmail',
    channelExpiresAt: expiryOf(parsed.data.expiration),
    cursor: String(parsed.data.historyId),
    renewBy: new Date(Date.now() + GMAIL_RENEW_EVERY_MS).toISOString(),
    createdAt: new Date().toISOString(),
  } satisfies SubscriptionRecord;
}

export const googleSubscriptions: ProviderSubscriptions = {
  credentialKind: 'oauth',

  async open({ client, accessToken, integration, webhookUrl, store }) {
    const base = { orgId: integration.orgId, integrationId: integration.id };
    const opened = [
      await watch(client, accessToken, 'calendar', base, webhookUrl, store),
      await watch(client, accessToken, 'drive', base, webhookUrl, store),
    ];
    const gmail = integration.externalAccountName ? await watchGmail(client, accessToken, base, integration.externalAccountName) : undefined;
    return gmail ? [...opened, gmail] : opened;
  },

  async renew({ client, accessToken, subscription, webhookUrl, store }) {
    if (subscription.resource === 'gmail') {
      return (await watchGmail(client, accessToken, subscription, subscription.subscriptionId)) ?? subscription;
    }
    const resource = subscription.resource === 'drive' ? 'drive' : 'calendar';
    return watch(client, accessToken, resource, subscription, webhookUrl, store, subscription.cursor);
  },

  async close({ client, accessToken, subscription }) {
    if (subscription.resource === 'gmail') {
      await call(accessToken, `${client.hosts.gmail}/gmail/v1/users/me/stop`, {});
      return;
    }
    const api = subscription.resource === 'drive' ? 'drive/v3' : 'calendar/v3';
    await call(accessToken, `${client.hosts.www}/${api}/channels/stop`, { id: subscription.subscriptionId, resourceId: subscription.resourceId });
  },
};
