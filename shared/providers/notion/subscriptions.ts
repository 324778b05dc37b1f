import type { SubscriptionRecord } from '../../store/subscriptions';
import { pinnedToken } from '../../store/webhook-verification-tokens';
import type { ProviderSubscriptions } from '../../webhooks/types';
import { NOTION_CREDENTIAL } from './oauth';
import { NOTION_CHANNEL, notionSubscriptionId } from './webhook';

/**
 * Notion has no API to subscribe: its webhook is set once for the whole
 * public integration, in Notion's integration settings, by the app's owner,
 * and covers every workspace that installed it. So each Notion integration
 * gets a record of that one webhook, for routing and for its status. Until
 * the app operator pins the verification token (webhook.ts), no event can
 * verify: every channel then reports that step as pending, read from the pin
 * itself so it is right for every organisation the moment it is pinned.
 * Nothing expires; the yearly "renewal" only rewrites the record.
 */
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** The pending step's code in GET …/webhooks; it names no token. */
export const AWAITING_OPERATOR_VERIFICATION = 'awaiting_operator_verification';

function record(owner: Pick<SubscriptionRecord, 'orgId' | 'integrationId'>, workspaceId: string, createdAt: string): SubscriptionRecord {
  return {
    orgId: owner.orgId,
    integrationId: owner.integrationId,
    providerId: 'notion',
    channel: NOTION_CHANNEL,
    subscriptionId: notionSubscriptionId(workspaceId, owner.integrationId),
    resource: 'pages',
    resourceId: workspaceId,
    channelExpiresAt: new Date(Date.now() + YEAR_MS).toISOString(),
    createdAt,
  };
}

export const notionSubscriptions: ProviderSubscriptions = {
  credentialKind: NOTION_CREDENTIAL,
  open: async ({ integration }) => [record({ orgId: integration.orgId, integrationId: integration.id }, integration.externalAccountId, new Date().toISOString())],
  renew: async ({ subscription }) => record(subscription, subscription.resourceId ?? '', subscription.createdAt),
  // The webhook belongs to the app, not to this integration: nothing to stop at Notion.
  close: async () => undefined,
  pendingStep: async () => ((await pinnedToken('notion')) ? undefined : AWAITING_OPERATOR_VERIFICATION),
};
