/**
 * Webhook troubleshooting: which push channels an integration has and the
 * URL each provider calls, what became of recent deliveries, and a test
 * event sent through the provider's real public webhook.
 *
 * The test event is one code path everywhere: an HTTP POST to the URL the
 * provider itself calls (`WEBHOOK_URL_<PROVIDER>`: the Function URL in AWS,
 * the local runtime's route locally), authenticated the way the webhook
 * verifies real deliveries (README "Webhook logs and test events").
 */
import * as z from 'zod';
import { findProvider } from '../providers/registry';
import type { SubscriptionRecord } from '../store/subscriptions';
import { subscriptionsWithRenewalOf } from '../store/subscriptions';
import { issueTestToken } from '../store/webhook-tests';
import { listWebhookLogs, webhookLogSchema, webhookOutcomes, type WebhookLog } from '../store/webhook-logs';
import { webhookUrl } from '../webhooks/subscriptions';
import { AppError, conflict } from './errors';
import { requireVisibleIntegration } from './lifecycle';
import type { IntegrationRecord } from './integration';
import { ulid } from 'ulid';

/** How many recent deliveries Slack's events channel (no channel item to keep stats on) is described from. */
const RECENT_DELIVERIES = 100;
/** A provider that does not answer the test within this long is reported as such. */
const TEST_TIMEOUT_MS = 10_000;

export const webhookChannelSchema = z.object({
  /** The provider's id of the channel or subscription; null for Slack's app-level event subscription. */
  subscriptionId: z.string().nullable(),
  kind: z.enum(['events_api', 'push_channel', 'gmail_watch', 'graph_subscription', 'webhook']),
  resource: z.string(),
  status: z.enum(['active', 'renewal_failing', 'lapsed', 'off']),
  expiresAt: z.iso.datetime().nullable(),
  nextRenewalAt: z.iso.datetime().nullable(),
  lastDeliveryAt: z.iso.datetime().nullable(),
  lastOutcome: z.enum(webhookOutcomes).nullable(),
  renewalFailures: z.number().int().nonnegative(),
  lastRenewalError: z.string().nullable(),
  /** Rejected deliveries since the last authenticated one (Slack: among the newest 100 deliveries). */
  recentRejections: z.number().int().nonnegative(),
});
export const webhookStatusSchema = z.object({
  providerId: z.string(),
  /** Where the provider delivers (null when not configured: real-time updates are off). */
  webhookUrl: z.string().nullable(),
  channels: z.array(webhookChannelSchema),
});
export type WebhookChannel = z.infer<typeof webhookChannelSchema>;

const kindOf = (subscription: SubscriptionRecord): WebhookChannel['kind'] =>
  subscription.channel === 'google' ? 'push_channel' : subscription.channel === 'google-gmail' ? 'gmail_watch' : subscription.channel === 'microsoft' ? 'graph_subscription' : 'webhook';

/** Slack's deliveries are all signed (an unsigned one is attributed to no integration), so its newest logs describe it. */
function deliveryStats(logs: readonly WebhookLog[]) {
  const last = logs[0];
  return {
    lastDeliveryAt: last?.receivedAt ?? null,
    lastOutcome: last?.outcome ?? null,
    recentRejections: logs.filter((log) => log.outcome === 'rejected').length,
  };
}

/**
 * When the renewal sweep renews the channel: at its renewal time, or, when that has passed (a channel
 * shorter-lived than the day ahead renewals are due, like Drive's hour), at the next sweep: now, as far
 * as anyone reading it can tell. Never a time in the past.
 */
const nextRenewal = (renewAt: string | undefined, now: Date): string | null =>
  renewAt === undefined ? null : Date.parse(renewAt) > now.getTime() ? renewAt : now.toISOString();

/** GET /api/integrations/{id}/webhooks */
export async function webhookStatus(orgId: string, integrationId: string, now: Date = new Date()): Promise<z.infer<typeof webhookStatusSchema>> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  const url = webhookUrl(integration.providerId) ?? null;
  const subscriptions = await subscriptionsWithRenewalOf(orgId, integration.id);
  // A step outside the product (Notion: the operator's pin) leaves the channels off, and says which step.
  const pendingStep = subscriptions.length > 0 ? await findProvider(integration.providerId)?.subscriptions?.pendingStep?.() : undefined;
  const channels: WebhookChannel[] = subscriptions.map(({ record, renewAt }) => ({
    subscriptionId: record.subscriptionId,
    kind: kindOf(record),
    resource: record.resource,
    status: pendingStep ? 'off' : Date.parse(record.channelExpiresAt) <= now.getTime() ? 'lapsed' : record.renewalFailures ? 'renewal_failing' : 'active',
    expiresAt: record.channelExpiresAt,
    nextRenewalAt: nextRenewal(renewAt, now),
    renewalFailures: record.renewalFailures ?? 0,
    lastRenewalError: pendingStep ?? record.lastRenewalError ?? null,
    lastDeliveryAt: record.lastDeliveryAt ?? null,
    lastOutcome: record.lastOutcome ?? null,
    recentRejections: record.rejectionsSinceDelivery ?? 0,
  }));
  // Slack's events come through the app's one event subscription: nothing per integration to open or renew.
  if (!findProvider(integration.providerId)?.subscriptions && findProvider(integration.providerId)?.webhookTest) {
    channels.push({
      subscriptionId: null,
      kind: 'events_api',
      resource: 'events',
      status: integration.status === 'active' && url ? 'active' : 'off',
      expiresAt: null,
      nextRenewalAt: null,
      renewalFailures: 0,
      lastRenewalError: null,
      ...deliveryStats((await listWebhookLogs(orgId, integration.id, undefined, RECENT_DELIVERIES)).items),
    });
  }
  return { providerId: integration.providerId, webhookUrl: url, channels };
}

export const webhookLogsPageSchema = z.object({ logs: z.array(webhookLogSchema), nextCursor: z.string().nullable() });

/** GET /api/integrations/{id}/webhook-logs */
export async function webhookLogsPage(orgId: string, integrationId: string, cursor: string | undefined, limit: number): Promise<z.infer<typeof webhookLogsPageSchema>> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  const page = await listWebhookLogs(orgId, integration.id, cursor, limit);
  return { logs: page.items, nextCursor: page.nextCursor ?? null };
}

export const webhookTestResultSchema = z.object({
  providerId: z.string(),
  url: z.string(),
  subscriptionId: z.string().nullable(),
  /** The HTTP status the webhook answered. */
  status: z.number().int(),
  /**
   * `test` when the webhook verified and recorded it; `rejected` (a 4xx, with `reason`) when it refused it,
   * `error` (a 5xx) when it failed to process it, `unreachable` when it did not answer.
   */
  outcome: z.enum(['test', 'rejected', 'error', 'unreachable', 'unexpected']),
  reason: z.string().nullable(),
});
export type WebhookTestResult = z.infer<typeof webhookTestResultSchema>;

const noChannel = (message: string) => new AppError(409, 'no_webhook_channel', message);

const webhookAnswer = z.union([
  z.object({ test: z.literal(true), outcome: z.literal('test') }),
  z.object({ success: z.literal(false), error: z.object({ code: z.string() }) }),
]);

/** POST /api/integrations/{id}/webhooks/test */
export async function sendTestDelivery(orgId: string, integrationId: string): Promise<WebhookTestResult> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  if (integration.status !== 'active') throw conflict('The integration is not connected; reconnect it before testing its webhook');
  const provider = findProvider(integration.providerId);
  const webhookTest = provider?.webhookTest;
  const url = webhookUrl(integration.providerId);
  if (!webhookTest) throw noChannel(`Test events are not available for ${integration.providerId}`);
  if (!url) throw noChannel(`${integration.providerId} has no webhook URL configured: real-time updates are off`);
  const pendingStep = await provider.subscriptions?.pendingStep?.();
  if (pendingStep) throw noChannel(`Real-time updates from ${integration.providerId} are off until a step outside this product is done (${pendingStep}); scheduled syncs still run`);
  const subscriptions = (await subscriptionsWithRenewalOf(orgId, integration.id)).map(({ record }) => record);
  const delivery = await webhookTest.build({
    integration,
    subscriptions,
    testId: ulid(),
    issueTestToken: (subscription) => issueTestToken(testTarget(integration, subscription)),
  });
  if (!delivery) throw noChannel('The integration has no push channel that can carry a test event (none was opened, or webhooks are not configured)');

  const target = new URL(url);
  for (const [name, value] of Object.entries(delivery.query)) target.searchParams.set(name, value);
  const base = { providerId: integration.providerId, url, subscriptionId: delivery.subscriptionId ?? null };
  let response: Response;
  try {
    response = await fetch(target, { method: 'POST', headers: delivery.headers, body: delivery.body, signal: AbortSignal.timeout(TEST_TIMEOUT_MS) });
  } catch (error) {
    return { ...base, status: 0, outcome: 'unreachable', reason: error instanceof Error ? error.name : 'unknown' };
  }
  const text = await response.text();
  let answer: z.infer<typeof webhookAnswer> | undefined;
  try {
    const parsed = webhookAnswer.safeParse(JSON.parse(text));
    answer = parsed.success ? parsed.data : undefined;
  } catch {
    answer = undefined;
  }
  if (answer && 'test' in answer && response.ok) return { ...base, status: response.status, outcome: 'test', reason: null };
  const reason = answer && 'error' in answer ? answer.error.code : `http_${response.status}`;
  if (response.status >= 500) return { ...base, status: response.status, outcome: 'error', reason };
  if (!response.ok) return { ...base, status: response.status, outcome: 'rejected', reason };
  return { ...base, status: response.status, outcome: 'unexpected', reason: 'not_recorded_as_test' };
}

const testTarget = (integration: IntegrationRecord, subscription: SubscriptionRecord) => ({
  orgId: integration.orgId,
  integrationId: integration.id,
  providerId: integration.providerId,
  subscriptionId: subscription.subscriptionId,
});
