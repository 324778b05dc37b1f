import type { SubscriptionRecord } from '../../store/subscriptions';
import type { ProviderSubscriptions } from '../../webhooks/types';
import { NOTION_CREDENTIAL } from './oauth';
import { NOTION_CHANNEL, notionSubscriptionId, notionWebhookConfirmed } from './webhook';

/**
 * Notion has no API to subscribe: its webhook is set once for the whole
 * public integration, in Notion's integration settings, by the app's owner,
 * and covers every workspace that installed it. So each Notion integration
 * gets a record of that one webhook, for routing and for its status:
 * `awaiting: 'verification'` until an event signed with a verification token
 * proves the owner completed Notion's step (see webhook.ts). Nothing expires;
 * the yearly "renewal" only refreshes that state.
 */
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

async function record(owner: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>, workspaceId: string, createdAt: string): Promise<SubscriptionRecord> {
  const confirmed = await notionWebhookConfirmed();
  return {
    orgId: owner.orgId,
    integrationId: owner.integrationId,
    providerId: 'notion',
    channel: NOTION_CHANNEL,
    subscriptionId: notionSubscriptionId(workspaceId, owner.integrationId),
    resource: 'pages',
    resourceId: workspaceId,
    ...(confirmed ? {} : { awaiting: 'verification' as const }),
    channelExpiresAt: new Date(Date.now() + YEAR_MS).toISOString(),
    createdAt,
  };
}

export const notionSubscriptions: ProviderSubscriptions = {
  credentialKind: NOTION_CREDENTIAL,
  open: async ({ integration }) => [await record({ orgId: integration.orgId, integrationId: integration.id }, integration.externalAccountId, new Date().toISOString())],
  renew: ({ subscription }) => record(subscription, subscription.resourceId ?? '', subscription.createdAt),
  // The webhook belongs to the app, not to this integration: nothing to stop at Notion.
  close: async () => undefined,
};
