/**
 * The integration's lifecycle in one place: the one lookup every handler and
 * job goes through (an erased integration is invisible), the lease under
 * which connect, reconnect, disconnect and erasure of one integration run
 * one at a time, and the one transition to `disconnected`. Nothing here opens
 * tokens, so webhook functions can use it without bundling the vault.
 */
import { randomUUID } from 'node:crypto';
import { publishEvents } from '../events/publisher';
import { getIntegration, updateLatestIntegration } from '../store/integrations';
import { acquireLifecycleLease, releaseLifecycleLease } from '../store/lifecycle';
import { expireDisconnectedLogs } from '../store/retention';
import { scheduleSync } from '../store/sync';
import { deleteCredentials } from '../store/token-item';
import { deleteSubscription, subscriptionsOf } from '../store/subscriptions';
import { resolveIntegrationAlerts } from './alerts';
import { VersionConflictError, notFound } from './errors';
import { publishHealthChanged } from './health';
import type { IntegrationRecord } from './integration';

/** The integration as its organisation may see it: undefined when missing or erased. */
export async function findVisibleIntegration(orgId: string, integrationId: string): Promise<IntegrationRecord | undefined> {
  const integration = await getIntegration(orgId, integrationId);
  return integration && integration.status !== 'erased' ? integration : undefined;
}

/** The caller's integration, or a 404 (another organisation's id and an erased one look exactly like a missing one). */
export async function requireVisibleIntegration(orgId: string, integrationId: string): Promise<IntegrationRecord> {
  const integration = await findVisibleIntegration(orgId, integrationId);
  if (!integration) throw notFound('Integration');
  return integration;
}

/** Longer than any one transition takes; a crashed holder blocks the integration for at most this long. */
export const LIFECYCLE_LEASE_MS = 30_000;
const LIFECYCLE_WAIT_MS = 8_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `transition` holding the integration's lifecycle lease, so a disconnect
 * never interleaves with a reconnect landing its grant (which would leave an
 * active integration without tokens, or fresh grants nobody revokes). A caller
 * that cannot get the lease within a few seconds gets a VersionConflictError
 * (409 at the API; a retry for jobs).
 */
export async function withLifecycleLease<T>(orgId: string, integrationId: string, transition: () => Promise<T>): Promise<T> {
  const owner = randomUUID();
  const deadline = Date.now() + LIFECYCLE_WAIT_MS;
  for (let round = 0; !(await acquireLifecycleLease(orgId, integrationId, owner, LIFECYCLE_LEASE_MS)); round += 1) {
    if (Date.now() > deadline) throw new VersionConflictError(`Integration ${integrationId} is being connected or disconnected; retry`);
    await sleep(25 + Math.random() * Math.min(400, 25 * 2 ** round));
  }
  try {
    return await transition();
  } finally {
    await releaseLifecycleLease(orgId, integrationId, owner);
  }
}

export interface DisconnectCause {
  /** `user_disconnected`, `erased`, or the provider's code for a dead grant (`invalid_grant`, `token_revoked`, …). */
  reason: string;
  /** The user who asked, when one did. */
  by?: string;
}

/**
 * The one transition to `disconnected`, run under the lifecycle lease after the
 * caller has taken the tokens (and revoked them where it could): push
 * subscriptions forgotten, status and health set, then the schedule removed
 * and the alerts resolved, sync logs put on their retention clock, `integration.health_changed` and
 * `integration.disconnected` published. Repeating it changes nothing.
 */
export async function recordDisconnect(integration: IntegrationRecord, cause: DisconnectCause, now: Date = new Date()): Promise<IntegrationRecord | undefined> {
  await Promise.all((await subscriptionsOf(integration.orgId, integration.id)).map((subscription) => deleteSubscription(subscription)));
  const before = await findVisibleIntegration(integration.orgId, integration.id);
  const record =
    before?.status === 'active'
      ? await updateLatestIntegration(integration.orgId, integration.id, {
          status: 'disconnected',
          healthStatus: 'disconnected',
          healthReason: cause.reason,
          healthChangedAt: now.toISOString(),
          disconnectedAt: now.toISOString(),
        })
      : undefined;
  // Only after the status: a sync's last write (its next run) and an alert are written only while the
  // integration is active, so one racing the disconnect either landed before and is undone here, or sees
  // it disconnected and writes nothing. The other way round, a sync finishing in between put it back on
  // the schedule for good. Run again on a repeat, which finishes what an interrupted one left.
  await scheduleSync(integration.orgId, integration.id, undefined);
  await resolveIntegrationAlerts(integration.orgId, integration.id);
  if (!before || before.status !== 'active') return before;
  if (!record) return record;
  await publishHealthChanged(before, record, now);
  await expireDisconnectedLogs(integration.orgId, integration.id, now);
  await publishEvents([
    {
      type: 'integration.disconnected',
      orgId: integration.orgId,
      integrationId: integration.id,
      detail: { providerId: integration.providerId, reason: cause.reason, ...(cause.by ? { disconnectedBy: cause.by } : {}) },
    },
  ]);
  return record;
}

/**
 * The grant is dead: a refresh or an API call was refused for good, or the
 * provider told us (Slack `tokens_revoked`, `app_uninstalled`). Nothing is left
 * to revoke, so the tokens are dropped without opening them. With `grantId`,
 * only that grant is disconnected: if a reconnect stored a new grant
 * meanwhile, nothing happens.
 */
export async function disconnectDeadGrant(integration: IntegrationRecord, reason: string, grantId?: string): Promise<void> {
  await withLifecycleLease(integration.orgId, integration.id, async () => {
    const current = await findVisibleIntegration(integration.orgId, integration.id);
    if (!current || current.status !== 'active') return;
    const ref = { orgId: current.orgId, integrationId: current.id, providerId: current.providerId };
    if (!(await deleteCredentials(ref, grantId))) return;
    await recordDisconnect(current, { reason });
  });
}
