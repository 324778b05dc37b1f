import { resolveIntegrationAlerts } from './alerts';
import { VersionConflictError } from './errors';
import type { HealthStatus, IntegrationRecord } from './integration';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { getIntegration, updateIntegration } from '../store/integrations';

/**
 * Health moves only on real outcomes (a refresh, a sync, a revocation), never
 * on a read, and every move publishes `integration.health_changed` with the
 * reason, so a recovery is as visible as a failure (architecture §6).
 */
export interface HealthChange {
  healthStatus: HealthStatus;
  reason: string;
  /**
   * Announce the change relative to this state instead of the current one.
   * A sync passes the state it started from, so the routine healthy →
   * syncing → healthy round trip publishes nothing, while a recovery or a
   * failure does.
   */
  announceAgainst?: { healthStatus: HealthStatus; healthReason: string } | 'never';
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
    if (current.healthStatus === change.healthStatus && current.healthReason === change.reason) return current;
    try {
      const updated = await updateIntegration(
        current,
        {
          healthStatus: change.healthStatus,
          healthReason: change.reason,
          healthChangedAt: now.toISOString(),
        },
        now,
      );
      const before = change.announceAgainst && change.announceAgainst !== 'never' ? change.announceAgainst : current;
      if (change.announceAgainst !== 'never') await publishHealthChanged({ ...current, ...before }, updated, now);
      // Back to healthy: whatever was alerted on is over (README "Alerts").
      if (updated.healthStatus === 'healthy' && before.healthStatus !== 'healthy') await resolveIntegrationAlerts(orgId, integrationId);
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
