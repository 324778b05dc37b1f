import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { MalformedProviderResponseError, ProviderError } from '../../oauth/errors';
import { providerFetch } from '../../oauth/http';
import type { OAuthClient } from '../../oauth/types';
import { hashSecret } from '../../store/secret-hash';
import type { SubscriptionRecord } from '../../store/subscriptions';
import type { ProviderSubscriptions } from '../../webhooks/types';

/**
 * Microsoft Graph subscriptions on the user's calendar events and OneDrive
 * root. Each resource has a maximum lifetime (Outlook events 10,080 minutes,
 * driveItem 42,300); renewal PATCHes the expiry, so the id and clientState stay.
 */
const RESOURCES = [
  { resource: 'events', path: 'me/events', changeType: 'created,updated,deleted', maxMinutes: 10_080 },
  { resource: 'onedrive', path: 'me/drive/root', changeType: 'updated', maxMinutes: 42_300 },
] as const;
const SAFETY_MINUTES = 15;

const subscriptionResponse = z.object({ id: z.string(), expirationDateTime: z.string(), resource: z.string().optional() });

async function graph(client: OAuthClient, accessToken: string, method: string, path: string, body?: unknown) {
  const response = await providerFetch('microsoft', `${client.hosts.graph}/v1.0/${path}`, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 401) throw new ProviderError('microsoft', 'InvalidAuthenticationToken', 401, 'unauthorized');
  if (response.status === 404 && method === 'DELETE') return undefined;
  if (response.status >= 400) {
    const code = (response.json as { error?: { code?: string } } | undefined)?.error?.code ?? `http_${response.status}`;
    throw new ProviderError('microsoft', code, response.status, 'rejected');
  }
  return response.json;
}

const expiry = (maxMinutes: number) => new Date(Date.now() + (maxMinutes - SAFETY_MINUTES) * 60_000).toISOString();
const spec = (resource: string) => RESOURCES.find((candidate) => candidate.resource === resource) ?? RESOURCES[0];

async function create(
  client: OAuthClient,
  accessToken: string,
  owner: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>,
  resource: (typeof RESOURCES)[number],
  webhookUrl: string,
): Promise<SubscriptionRecord> {
  const clientState = randomBytes(32).toString('base64url');
  const parsed = subscriptionResponse.safeParse(
    await graph(client, accessToken, 'POST', 'subscriptions', {
      changeType: resource.changeType,
      notificationUrl: webhookUrl,
      lifecycleNotificationUrl: webhookUrl,
      resource: resource.path,
      expirationDateTime: expiry(resource.maxMinutes),
      clientState,
    }),
  );
  if (!parsed.success) throw new MalformedProviderResponseError('microsoft', 'subscription');
  return {
    orgId: owner.orgId,
    integrationId: owner.integrationId,
    providerId: 'microsoft',
    channel: 'microsoft',
    subscriptionId: parsed.data.id,
    resource: resource.resource,
    resourceId: resource.path,
    secretHash: hashSecret(clientState),
    channelExpiresAt: new Date(parsed.data.expirationDateTime).toISOString(),
    createdAt: new Date().toISOString(),
  };
}

export const microsoftSubscriptions: ProviderSubscriptions = {
  credentialKind: 'oauth',

  async open({ client, accessToken, integration, webhookUrl }) {
    const opened: SubscriptionRecord[] = [];
    for (const resource of RESOURCES) {
      opened.push(await create(client, accessToken, { orgId: integration.orgId, integrationId: integration.id }, resource, webhookUrl));
    }
    return opened;
  },

  async renew({ client, accessToken, subscription, webhookUrl }) {
    let answer: unknown;
    try {
      answer = await graph(client, accessToken, 'PATCH', `subscriptions/${encodeURIComponent(subscription.subscriptionId)}`, {
        expirationDateTime: expiry(spec(subscription.resource).maxMinutes),
      });
    } catch (error) {
      // Removed by Graph (lifecycle `subscriptionRemoved`, or expired): recreate it.
      if (error instanceof ProviderError && error.status === 404) {
        return create(client, accessToken, subscription, spec(subscription.resource), webhookUrl);
      }
      throw error;
    }
    const parsed = subscriptionResponse.safeParse(answer);
    if (!parsed.success) throw new MalformedProviderResponseError('microsoft', 'subscription');
    return { ...subscription, channelExpiresAt: new Date(parsed.data.expirationDateTime).toISOString() };
  },

  async close({ client, accessToken, subscription }) {
    await graph(client, accessToken, 'DELETE', `subscriptions/${encodeURIComponent(subscription.subscriptionId)}`);
  },
};
