import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { DomainEvent } from '../../events/catalog';
import { publishEvents } from '../../events/publisher';
import type { ProviderWebhookTest } from '../types';
import { addProviderWebhookKey, confirmProviderWebhookKey, providerWebhookKeys } from '../../store/provider-webhook-keys';
import { findSubscription, saveSubscription, type SubscriptionRecord } from '../../store/subscriptions';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries } from '../../webhooks/delivery-log';
import { integrationsForAccount } from '../../webhooks/routing';
import { changeEvents, deliversTo } from '../../webhooks/sync-request';

/**
 * Notion deliveries to `/api/webhooks/notion`.
 *
 * - `{verification_token}`: posted once when the app owner creates the
 *   webhook in Notion's integration settings. It is kept (see
 *   store/provider-webhook-keys.ts) and answered 200; the owner must paste it
 *   back into Notion before any event is sent. The product cannot do that step.
 * - Events: `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
 *   under a kept token, compared in constant time, or 401. The first event
 *   that verifies proves the token (and clears `awaiting` on the workspace's
 *   records). Each event is routed by `workspace_id` to every connected
 *   integration of that workspace, processed once per event `id` (Notion
 *   retries up to 8 times), and requests a sync of pages or databases.
 * - Test events (POST …/webhooks/test): an event of our own type naming one
 *   integration, signed with the proven token like Notion's; verified the
 *   same way, then only logged on that integration (no sync).
 */
export const NOTION_CHANNEL = 'notion';
const PROVIDER = 'notion';

export const notionSubscriptionId = (workspaceId: string, integrationId: string) => `${workspaceId}:${integrationId}`;

const verificationBody = z.object({ verification_token: z.string().min(1).max(256) }).strict();
export const notionEventBody = z.looseObject({
  id: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  workspace_id: z.string().min(1).max(100),
  attempt_number: z.number().int().optional(),
  entity: z.object({ id: z.string().max(100), type: z.string().max(50) }),
});

/** `sha256=<64 hex>` over the exact bytes, in constant time. */
export function notionSignatureMatches(rawBody: Buffer, token: string, header: string | undefined): boolean {
  const hex = /^sha256=([0-9a-f]{64})$/.exec(header ?? '')?.[1];
  if (!hex) return false;
  return timingSafeEqual(createHmac('sha256', token).update(rawBody).digest(), Buffer.from(hex, 'hex'));
}

/** Whether an event has proven a verification token, i.e. the owner finished Notion's step. */
export async function notionWebhookConfirmed(): Promise<boolean> {
  return (await providerWebhookKeys(PROVIDER)).some((key) => key.confirmedAt !== undefined);
}

/**
 * What the app owner needs for Notion's verification step: the newest token
 * received that no event has proven yet (undefined once one is proven, or
 * before Notion sent any). It is the key deliveries are signed with: show it
 * to the owner of the Notion app only.
 */
export async function notionPendingVerification(): Promise<{ verificationToken: string; receivedAt: string } | undefined> {
  const keys = await providerWebhookKeys(PROVIDER);
  if (keys.some((key) => key.confirmedAt !== undefined)) return undefined;
  const newest = keys[0];
  return newest ? { verificationToken: newest.key, receivedAt: newest.receivedAt } : undefined;
}

export interface NotionOutcome {
  status: number;
  outcome: string;
}

export async function handleNotionDelivery(rawBody: Buffer, signature: string | undefined): Promise<NotionOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { status: 400, outcome: 'bad_request' };
  }
  const verification = verificationBody.safeParse(json);
  if (verification.success) {
    // Signed with the token it carries: that only shows the post is well formed.
    if (!notionSignatureMatches(rawBody, verification.data.verification_token, signature)) return { status: 401, outcome: 'unauthorized' };
    await addProviderWebhookKey(PROVIDER, verification.data.verification_token);
    return { status: 200, outcome: 'verification_token_received' };
  }
  // Anyone can post a token; once an event has proven one, only proven tokens verify events, so a self-made one cannot displace it.
  const keys = await providerWebhookKeys(PROVIDER);
  const proven = keys.filter((candidate) => candidate.confirmedAt !== undefined);
  const key = (proven.length > 0 ? proven : keys).find((candidate) => notionSignatureMatches(rawBody, candidate.key, signature));
  if (!key) return { status: 401, outcome: 'unauthorized' };
  const event = notionEventBody.safeParse(json);
  if (!event.success) return { status: 400, outcome: 'validation_failed' };
  if (!key.confirmedAt) await confirmProviderWebhookKey(PROVIDER, key.key);
  return event.data.type === NOTION_TEST_EVENT_TYPE ? recordTest(event.data) : routeEvent(event.data);
}

/** The event type of test events; Notion itself never sends it. The entity is the integration tested. */
export const NOTION_TEST_EVENT_TYPE = 'hr_integrations.webhook_test';

async function recordTest(event: z.infer<typeof notionEventBody>): Promise<NotionOutcome> {
  const subscription = await findSubscription(NOTION_CHANNEL, notionSubscriptionId(event.workspace_id, event.entity.id));
  if (!subscription) return { status: 200, outcome: 'unrouted' };
  await recordDeliveries([
    { orgId: subscription.orgId, integrationId: subscription.integrationId, providerId: PROVIDER, eventType: event.type, subscriptionId: subscription.subscriptionId, outcome: 'test', test: true },
  ]);
  return { status: 200, outcome: 'test' };
}

/** The test event for POST …/webhooks/test: none until an event has proven a verification token (Notion sends nothing before). */
export const notionWebhookTest: ProviderWebhookTest = {
  async build({ integration, subscriptions, testId }) {
    const subscription = subscriptions.find((candidate) => candidate.channel === NOTION_CHANNEL);
    const key = (await providerWebhookKeys(PROVIDER)).find((candidate) => candidate.confirmedAt !== undefined);
    if (!subscription || !key) return undefined;
    const body = JSON.stringify({ id: `test-${testId}`, type: NOTION_TEST_EVENT_TYPE, workspace_id: integration.externalAccountId, entity: { id: integration.id, type: 'integration' } });
    return {
      query: {},
      headers: { 'content-type': 'application/json', 'x-notion-signature': `sha256=${createHmac('sha256', key.key).update(body).digest('hex')}` },
      body,
      subscriptionId: subscription.subscriptionId,
    };
  },
};

async function routeEvent(event: z.infer<typeof notionEventBody>): Promise<NotionOutcome> {
  const resource = event.entity.type === 'database' ? 'databases' : 'pages';
  const targets: SubscriptionRecord[] = [];
  const logs = [];
  for (const integration of await integrationsForAccount(PROVIDER, event.workspace_id)) {
    const subscription = await findSubscription(NOTION_CHANNEL, notionSubscriptionId(event.workspace_id, integration.id));
    if (!subscription) continue;
    if (subscription.awaiting) await saveSubscription({ ...subscription, awaiting: undefined });
    const log = { orgId: subscription.orgId, integrationId: subscription.integrationId, providerId: PROVIDER, eventType: event.type, subscriptionId: subscription.subscriptionId, resource };
    if (await deliversTo(subscription)) {
      targets.push({ ...subscription, resource });
      logs.push({ ...log, outcome: 'accepted' as const });
    } else {
      logs.push({ ...log, outcome: 'dropped' as const, reason: 'integration_not_connected' });
    }
  }
  if (targets.length === 0) {
    await recordDeliveries(logs);
    return { status: 200, outcome: logs.length > 0 ? 'dropped' : 'unrouted' };
  }
  if (!(await claimDelivery(PROVIDER, event.id))) {
    await recordDeliveries(logs.map((log) => (log.outcome === 'accepted' ? { ...log, outcome: 'duplicate' as const } : log)));
    return { status: 200, outcome: 'duplicate' };
  }
  const events: DomainEvent[] = targets.flatMap((subscription) => changeEvents(subscription, { eventType: event.type, entityId: event.entity.id, attempt: event.attempt_number ?? 1 }));
  try {
    await publishEvents(events);
  } catch (error) {
    await releaseDelivery(PROVIDER, event.id);
    throw error;
  }
  await recordDeliveries(logs);
  return { status: 200, outcome: 'processed' };
}
