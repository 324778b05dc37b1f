/**
 * GDPR erasure: under the lifecycle lease, disconnect first (revocation,
 * tokens dropped, webhooks stopped), then raise the fence (the integration is
 * `erased`, so no writer touches it again and every endpoint answers 404), let
 * the account go (connecting it again makes a new integration), and put every
 * item of the integration on the TTL clock. Writers that were mid-way check
 * the fence after writing (store/retention.ts `expireIfErased`).
 */
import * as z from 'zod';
import { releaseAccountClaim } from '../store/lifecycle';
import { ERASURE_GRACE_DAYS, expireIntegrationItems } from '../store/retention';
import { updateLatestIntegration } from '../store/integrations';
import { nowEpochSeconds } from '../store/items';
import { tearDown } from './disconnect';
import { notFound } from './errors';
import { integrationIdSchema } from './integration';
import { requireVisibleIntegration, withLifecycleLease } from './lifecycle';

const removedCount = z.number().int().nonnegative();
export const erasureReceiptSchema = z.object({
  integrationId: integrationIdSchema,
  erasedAt: z.iso.datetime(),
  purgeAt: z.iso.datetime(),
  removes: z.object({ integration: removedCount, consents: removedCount, syncLogs: removedCount, records: removedCount, subscriptions: removedCount, actions: removedCount, webhookLogs: removedCount }),
});
export type ErasureReceipt = z.infer<typeof erasureReceiptSchema>;

export async function eraseIntegration(caller: { orgId: string; userId: string }, integrationId: string, now: Date = new Date()): Promise<ErasureReceipt> {
  await requireVisibleIntegration(caller.orgId, integrationId);
  const purgeAt = new Date(now.getTime() + ERASURE_GRACE_DAYS * 86_400_000);
  const counts = await withLifecycleLease(caller.orgId, integrationId, async () => {
    const integration = await requireVisibleIntegration(caller.orgId, integrationId);
    await tearDown(integration, { reason: 'erased', by: caller.userId });
    const fenced = await updateLatestIntegration(caller.orgId, integrationId, {
      status: 'erased',
      healthReason: 'erased',
      erasedAt: now.toISOString(),
      purgeAt: purgeAt.toISOString(),
      expiresAt: nowEpochSeconds(purgeAt),
    });
    if (!fenced) throw notFound('Integration');
    await releaseAccountClaim(caller.orgId, integration.providerId, integration.externalAccountId, integrationId);
    return expireIntegrationItems(caller.orgId, integrationId, purgeAt);
  });
  return {
    integrationId,
    erasedAt: now.toISOString(),
    purgeAt: purgeAt.toISOString(),
    removes: {
      integration: counts.INT ?? 0,
      consents: counts.CONSENT ?? 0,
      syncLogs: counts.LOG ?? 0,
      records: counts.REC ?? 0,
      subscriptions: counts.SUB ?? 0,
      actions: counts.ACTION ?? 0,
      webhookLogs: counts.WHLOG ?? 0,
    },
  };
}
