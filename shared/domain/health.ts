import { resolveIntegrationAlerts } from './alerts';
import { VersionConflictError } from './errors';
import type { HealthStatus, IntegrationRecord } from './integration';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { getIntegration, updateIntegration, type IntegrationChanges } from '../store/integrations';
import { subscriptionsOf } from '../store/subscriptions';

/**
 * Health moves only on real outcomes (a refresh, a sync, a revocation), never
 * on a read, and every move publishes `integration.health_changed` with the
 * reason, so a recovery is as visible as a failure (architecture §6).
 *
 * A success vouches only for what it exercised, so it clears only the
 * problems of that kind (`successSettles` below is the one place that says
 * which): a probe or a token refresh shows the credential works, a sync that
 * the provider's data can be read with it, a renewed channel that push
 * deliveries will come. A lapsed channel or a revoked Slack user token stays
 * until its own remedy (a renewal, a reconnect) succeeds.
 */
export type HealthEvidence = 'credential' | 'sync' | 'channel';

export interface HealthChange {
  healthStatus: HealthStatus;
  reason: string;
  /** For a change to healthy: what the success showed (a working credential unless said otherwise). */
  evidence?: HealthEvidence;
  /**
   * Announce the change relative to this state instead of the current one.
   * A sync passes the state it started from, so the routine healthy →
   * syncing → healthy round trip publishes nothing, while a recovery or a
   * failure does. Should someone else have changed (and announced) health
   * while the sync ran, the change is announced relative to that instead.
   */
  announceAgainst?: { healthStatus: HealthStatus; healthReason: string } | 'never';
  /** A running sync owns `syncing` and settles health itself: leave it alone (a health check's outcome). */
  unlessSyncing?: boolean;
  /**
   * Other fields written in the same update, from the record as read (a
   * sync's last run, failure count and next run): one write instead of
   * several, under the same fence (written only while the integration is
   * active), and written even when health stays as it is.
   */
  alsoWrite?: (current: IntegrationRecord) => IntegrationChanges;
  /**
   * For a change to healthy from healthy: whether alerts this success settles
   * may still be open. Health can be healthy again without them settled (a
   * reconnect vouches for the credential, not for syncing), and only the
   * caller knows cheaply from the record (a sync: its failure count).
   */
  settledAlertsMayBeOpen?: (current: IntegrationRecord) => boolean;
}

/** Problems of the push channels or of a credential no probe or sync uses: only their own remedy clears them. */
const CHANNEL_PROBLEMS = new Set(['subscription_renewal_failed', 'webhook_setup_failed', 'user_token_revoked']);
const credentialProblem = (reason: string) => /^(health_check_failed|token_refresh_failed)(:|$)/.test(reason);

/** Which degraded reasons each kind of success clears, and which alert kinds it resolves. */
const successSettles: Record<HealthEvidence, { reason: (reason: string) => boolean; alertKinds: readonly string[] }> = {
  credential: { reason: credentialProblem, alertKinds: [] },
  sync: { reason: (reason) => !CHANNEL_PROBLEMS.has(reason), alertKinds: ['sync_failing'] },
  channel: { reason: (reason) => reason === 'subscription_renewal_failed', alertKinds: ['webhook_lapsed'] },
};
/** "Degraded for an hour" is over whenever health is healthy again, whatever made it so. */
const HEALTHY_AGAIN_RESOLVES = 'degraded';

/** True when a success of this kind clears a degraded integration's reason. */
export const successClears = (evidence: HealthEvidence, reason: string): boolean => successSettles[evidence].reason(reason);

type HealthState = Pick<IntegrationRecord, 'healthStatus' | 'healthReason'>;

/**
 * Where a success leaves a degraded integration: healthy when the success
 * clears its reason, unless one of its channels still fails to renew (a
 * reason the channel problem may have been overwritten by); else as it was.
 */
async function afterSuccess(orgId: string, integrationId: string, standing: HealthState, change: HealthChange): Promise<HealthState> {
  const healthy = { healthStatus: 'healthy' as const, healthReason: change.reason };
  if (standing.healthStatus !== 'degraded') return healthy;
  if (!successClears(change.evidence ?? 'credential', standing.healthReason)) return standing;
  const stillFailing = (await subscriptionsOf(orgId, integrationId)).some((subscription) => subscription.renewalFailures !== undefined);
  return stillFailing ? { healthStatus: 'degraded', healthReason: 'subscription_renewal_failed' } : healthy;
}

const MAX_ATTEMPTS = 5;

export async function changeHealth(
  orgId: string,
  integrationId: string,
  change: HealthChange,
  now: Date = new Date(),
): Promise<IntegrationRecord | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const current = await getIntegration(orgId, integrationId);
    if (!current) return undefined;
    // Health belongs to a working connection: a late outcome never revives a disconnected or erased one
    // (disconnecting is the lifecycle's job, domain/lifecycle.ts).
    if (current.status !== 'active') return current;
    if (change.unlessSyncing && current.healthStatus === 'syncing') return current;
    // What consumers were last told: the state a sync started from while it still shows `syncing`.
    const announced = change.announceAgainst && change.announceAgainst !== 'never' && current.healthStatus === 'syncing' ? change.announceAgainst : current;
    const target =
      change.healthStatus === 'healthy' ? await afterSuccess(orgId, integrationId, announced, change) : { healthStatus: change.healthStatus, healthReason: change.reason };
    // After the state is recorded, so an alert raised meanwhile either sees it (alerts.ts) or is resolved here.
    const wasHealthy = announced.healthStatus === 'healthy';
    const resolveSettled = async () => {
      if (change.healthStatus !== 'healthy' || (wasHealthy && !change.settledAlertsMayBeOpen?.(current))) return;
      // The success is over what it vouches for, whether or not health is healthy again.
      const kinds = new Set(successSettles[change.evidence ?? 'credential'].alertKinds);
      if (target.healthStatus === 'healthy' && !wasHealthy) kinds.add(HEALTHY_AGAIN_RESOLVES);
      await resolveIntegrationAlerts(orgId, integrationId, (kind) => kinds.has(kind));
    };
    const healthMoves = current.healthStatus !== target.healthStatus || current.healthReason !== target.healthReason;
    const also = change.alsoWrite?.(current);
    if (!healthMoves && !also) {
      await resolveSettled();
      return current;
    }
    try {
      const updated = await updateIntegration(
        current,
        { ...also, ...(healthMoves ? { healthStatus: target.healthStatus, healthReason: target.healthReason, healthChangedAt: now.toISOString() } : {}) },
        now,
      );
      if (change.announceAgainst !== 'never') await publishHealthChanged({ ...current, ...announced }, updated, now);
      await resolveSettled();
      return updated;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new VersionConflictError(`Integration ${integrationId} kept changing while its health was recorded`);
}

/**
 * Announces a change of health: a new status, or a different problem while
 * still degraded or disconnected. Healthy staying healthy for another reason
 * (`connected` → `synced`) is not news.
 */
export async function publishHealthChanged(before: IntegrationRecord, after: IntegrationRecord, now: Date): Promise<void> {
  if (before.healthStatus === after.healthStatus && (after.healthStatus === 'healthy' || before.healthReason === after.healthReason)) return;
  try {
    await publishEvents(
      [
        {
          type: 'integration.health_changed',
          orgId: after.orgId,
          integrationId: after.id,
          detail: {
            providerId: after.providerId,
            from: before.healthStatus,
            to: after.healthStatus,
            reason: after.healthReason,
            changedAt: after.healthChangedAt,
          },
        },
      ],
      now,
    );
  } catch (error) {
    // The state change stands; a lost notification is logged loudly rather than undoing it.
    logger.error('Could not publish integration.health_changed', { integrationId: after.id, error });
  }
}
