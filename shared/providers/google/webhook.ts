import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as z from 'zod';
import { parseEnv } from '../../config';
import type { ProviderWebhookTest } from '../types';
import { publishEvents } from '../../events/publisher';
import { findSubscription, secretMatches, type SubscriptionRecord } from '../../store/subscriptions';
import { consumeTestToken, isTestToken } from '../../store/webhook-tests';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries, type WebhookLogEntry } from '../../webhooks/delivery-log';
import { changeEvents, deliversTo } from '../../webhooks/sync-request';

/**
 * Google push: channel notifications are authenticated by the channel id
 * being ours and `X-Goog-Channel-Token` matching the channel's secret; Gmail
 * pushes come from Pub/Sub with an OIDC token for our audience, signed with
 * Google's keys (the key URL is configurable so the sandbox can sign).
 */
export interface WebhookOutcome {
  status: number;
  outcome: string;
}

const channelHeaders = z.object({
  'x-goog-channel-id': z.string().min(1).max(256),
  'x-goog-channel-token': z.string().max(256).optional(),
  'x-goog-resource-state': z.string().min(1).max(32),
  'x-goog-message-number': z.string().regex(/^\d{1,20}$/),
  'x-goog-resource-id': z.string().max(256).optional(),
});

export async function handleGoogleChannelNotification(headers: Record<string, string | undefined>): Promise<WebhookOutcome> {
  const parsed = channelHeaders.safeParse(headers);
  if (!parsed.success) return { status: 400, outcome: 'bad_request' };
  const { 'x-goog-channel-id': channelId, 'x-goog-channel-token': token, 'x-goog-resource-state': state } = parsed.data;
  const subscription = await findSubscription('google', channelId);
  if (!subscription) return { status: 401, outcome: 'unauthorized' };
  const log = (outcome: WebhookLogEntry['outcome'], extra: Partial<WebhookLogEntry> = {}) =>
    recordDeliveries([{ ...channelLogEntry(subscription, RESOURCE_STATES.has(state) ? state : 'unknown'), outcome, ...extra }]);
  if (isTestToken(token)) {
    if (!(await consumeTestToken(token, subscription.subscriptionId))) {
      await log('rejected', { reason: 'invalid_test_token', test: true });
      return { status: 401, outcome: 'unauthorized' };
    }
    await log('test', { test: true });
    return { status: 200, outcome: 'test' };
  }
  if (!secretMatches(subscription, token)) {
    await log('rejected', { reason: 'invalid_channel_token' });
    return { status: 401, outcome: 'unauthorized' };
  }
  if (state === 'sync') {
    await log('accepted');
    return { status: 200, outcome: 'sync' };
  }
  if (!(await deliversTo(subscription))) {
    await log('dropped', { reason: 'integration_not_connected' });
    return { status: 200, outcome: 'dropped' };
  }

  const eventId = `${channelId}#${parsed.data['x-goog-message-number']}`;
  if (!(await claimDelivery('google', eventId))) {
    await log('duplicate');
    return { status: 200, outcome: 'duplicate' };
  }
  try {
    await publishEvents(changeEvents(subscription, { resourceState: state, messageNumber: parsed.data['x-goog-message-number'] }));
  } catch (error) {
    await releaseDelivery('google', eventId);
    throw error;
  }
  await log('accepted');
  return { status: 200, outcome: 'processed' };
}

/**
 * The resource states Calendar and Drive send (`X-Goog-Resource-State`), and our test event's: only these
 * are logged as sent; anything else (the header is anyone's to set) is logged as `unknown`.
 */
const RESOURCE_STATES = new Set(['sync', 'exists', 'not_exists', 'add', 'remove', 'update', 'trash', 'untrash', 'change', 'test']);

const channelLogEntry = (subscription: SubscriptionRecord, eventType: string) => ({
  orgId: subscription.orgId,
  integrationId: subscription.integrationId,
  providerId: 'google',
  eventType,
  subscriptionId: subscription.subscriptionId,
  resource: subscription.resource,
});

/**
 * A test notification for one of the integration's Calendar or Drive
 * channels (Gmail's pushes are signed by Google's own keys, which the
 * service cannot sign with): the channel's id, and a one-time test token
 * where the channel token goes.
 */
export function googleTestDelivery(subscription: SubscriptionRecord, testToken: string): { headers: Record<string, string>; body: string } {
  return {
    headers: {
      'x-goog-channel-id': subscription.subscriptionId,
      'x-goog-channel-token': testToken,
      'x-goog-resource-state': 'test',
      'x-goog-message-number': '0',
      ...(subscription.resourceId ? { 'x-goog-resource-id': subscription.resourceId } : {}),
    },
    body: '',
  };
}

export const googleWebhookTest: ProviderWebhookTest = {
  async build({ subscriptions, issueTestToken }) {
    const channel = subscriptions.find((subscription) => subscription.channel === 'google');
    if (!channel) return undefined;
    return { query: {}, ...googleTestDelivery(channel, await issueTestToken(channel)), subscriptionId: channel.subscriptionId };
  },
};

const pushEnv = z.object({
  GMAIL_PUSH_AUDIENCE: z.string().min(1).optional(),
  GMAIL_PUSH_SERVICE_ACCOUNT: z.string().min(3).optional(),
  GOOGLE_JWKS_URL: z.url().default('https://www.googleapis.com/oauth2/v3/certs'),
});

const pushBody = z.object({
  message: z.object({ data: z.string().min(1).max(4096), messageId: z.string().min(1).max(128) }),
  subscription: z.string().max(512),
});
const gmailData = z.object({ emailAddress: z.string().min(3).max(320), historyId: z.union([z.string(), z.number()]).transform(String) });

let jwks: { url: string; keys: ReturnType<typeof createRemoteJWKSet> } | undefined;

export async function handleGmailPush(authorization: string | undefined, rawBody: Buffer): Promise<WebhookOutcome> {
  const env = parseEnv(pushEnv, {
    GMAIL_PUSH_AUDIENCE: process.env.GMAIL_PUSH_AUDIENCE || undefined,
    GMAIL_PUSH_SERVICE_ACCOUNT: process.env.GMAIL_PUSH_SERVICE_ACCOUNT || undefined,
    GOOGLE_JWKS_URL: process.env.GOOGLE_JWKS_URL || undefined,
  });
  if (!env.GMAIL_PUSH_AUDIENCE) return { status: 401, outcome: 'gmail_push_not_configured' };
  const token = /^Bearer ([A-Za-z0-9._-]+)$/.exec(authorization ?? '')?.[1];
  if (!token) return { status: 401, outcome: 'unauthorized' };
  if (jwks?.url !== env.GOOGLE_JWKS_URL) jwks = { url: env.GOOGLE_JWKS_URL, keys: createRemoteJWKSet(new URL(env.GOOGLE_JWKS_URL)) };
  try {
    const { payload } = await jwtVerify(token, jwks.keys, {
      issuer: ['https://accounts.google.com', 'accounts.google.com'],
      audience: env.GMAIL_PUSH_AUDIENCE,
      algorithms: ['RS256'],
    });
    if (env.GMAIL_PUSH_SERVICE_ACCOUNT && (payload.email !== env.GMAIL_PUSH_SERVICE_ACCOUNT || payload.email_verified !== true)) {
      return { status: 401, outcome: 'unauthorized' };
    }
  } catch {
    return { status: 401, outcome: 'unauthorized' };
  }

  let body: z.infer<typeof pushBody>;
  let data: z.infer<typeof gmailData>;
  try {
    body = pushBody.parse(JSON.parse(rawBody.toString('utf8')));
    data = gmailData.parse(JSON.parse(Buffer.from(body.message.data, 'base64url').toString('utf8')));
  } catch {
    return { status: 400, outcome: 'bad_request' };
  }
  const subscription = await findSubscription('google-gmail', data.emailAddress.toLowerCase());
  // Unknown addresses are acknowledged: a non-2xx would make Pub/Sub redeliver for days.
  if (!subscription) return { status: 204, outcome: 'unrouted' };
  const log = (outcome: WebhookLogEntry['outcome'], extra: Partial<WebhookLogEntry> = {}) =>
    recordDeliveries([{ ...channelLogEntry(subscription, 'gmail.history'), outcome, ...extra }]);
  if (!(await deliversTo(subscription))) {
    await log('dropped', { reason: 'integration_not_connected' });
    return { status: 204, outcome: 'dropped' };
  }
  if (!(await claimDelivery('google-gmail', body.message.messageId))) {
    await log('duplicate');
    return { status: 204, outcome: 'duplicate' };
  }
  try {
    await publishEvents(changeEvents(subscription, { historyId: data.historyId }));
  } catch (error) {
    await releaseDelivery('google-gmail', body.message.messageId);
    throw error;
  }
  await log('accepted');
  return { status: 204, outcome: 'processed' };
}
