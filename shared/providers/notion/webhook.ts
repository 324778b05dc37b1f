import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { DomainEvent } from '../../events/catalog';
import { publishEvents } from '../../events/publisher';
import type { ProviderWebhookTest } from '../types';
import { findSubscription, type SubscriptionRecord } from '../../store/subscriptions';
import { pinnedToken, recordTokenCandidate } from '../../store/webhook-verification-tokens';
import { claimDelivery, releaseDelivery } from '../../webhooks/dedupe';
import { recordDeliveries } from '../../webhooks/delivery-log';
import { integrationsForAccount } from '../../webhooks/routing';
import { changeEvents, deliversTo } from '../../webhooks/sync-request';

/**
 * Notion deliveries to `/api/webhooks/notion`.
 *
 * - `{verification_token}`: posted once when the app owner creates the
 *   webhook in Notion's integration settings. Anyone can post one, and
 *   nothing in the post can show it came from Notion (a signature, if any,
 *   would be made with the token it carries), so it is kept as a candidate
 *   (store/webhook-verification-tokens.ts) and answered 200 whatever its
 *   signature. The app operator pins the candidate Notion accepted
 *   (`npm run notion-webhook`, README "Webhooks"). Notion's tokens are
 *   `secret_<alphanumerics>`: a token that is not one word of printable
 *   ASCII is a 400 and kept nowhere, since the operator's terminal lists
 *   the candidates.
 * - Events: `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
 *   under the pinned token, compared in constant time, or 401; with nothing
 *   pinned every event is a 401 (the scheduled sync still runs). Each event
 *   is routed by `workspace_id` to every connected integration of that
 *   workspace, processed once per event `id` (Notion retries up to 8 times),
 *   and requests a sync of pages or databases.
 * - Test events (POST …/webhooks/test): an event of our own type naming one
 *   integration, signed with the pinned token like Notion's; verified the
 *   same way, then only logged on that integration (no sync).
 */
export const NOTION_CHANNEL = 'notion';
const PROVIDER = 'notion';

export const notionSubscriptionId = (workspaceId: string, integrationId: string) => `${workspaceId}:${integrationId}`;

/** A verification post is a body of `verification_token` alone; its token is then checked on its own (a 400 if it is not one). */
const verificationBody = z.object({ verification_token: z.unknown() }).strict();
const verificationToken = z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/);
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
    const token = verificationToken.safeParse(verification.data.verification_token);
    if (!token.success) return { status: 400, outcome: 'validation_failed' };
    await recordTokenCandidate(PROVIDER, token.data);
    return { status: 200, outcome: 'verification_token_received' };
  }
  const pinned = await pinnedToken(PROVIDER);
  if (!pinned || !notionSignatureMatches(rawBody, pinned.token, signature)) return { status: 401, outcome: 'unauthorized' };
  const event = notionEventBody.safeParse(json);
  if (!event.success) return { status: 400, outcome: 'validation_failed' };
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

/** The test event for POST …/webhooks/test: none until an operator pinned the verification token (events cannot verify before). */
export const notionWebhookTest: ProviderWebhookTest = {
  async build({ integration, subscriptions, testId }) {
    const subscription = subscriptions.find((candidate) => candidate.channel === NOTION_CHANNEL);
    if (!subscription) return undefined;
    const pinned = await pinnedToken(PROVIDER);
    if (!pinned) return undefined;
    const body = JSON.stringify({ id: `test-${testId}`, type: NOTION_TEST_EVENT_TYPE, workspace_id: integration.externalAccountId, entity: { id: integration.id, type: 'integration' } });
    return {
      query: {},
      headers: { 'content-type': 'application/json', 'x-notion-signature': `sha256=${createHmac('sha256', pinned.token).update(body).digest('hex')}` },
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
