/**
 * A live health check: a cheap call with the stored token (the provider's
 * `probe`: Slack auth.test, Google userinfo, Graph /me) through the token
 * manager, so an expired token is refreshed once and a dead grant
 * disconnects the integration, exactly as in a sync. Health then follows
 * the real outcome (health.ts).
 */
import * as z from 'zod';
import { MalformedProviderResponseError, ProviderError, errorCodeOf } from '../oauth/errors';
import { IntegrationUnavailableError, withAccessToken } from '../oauth/token-manager';
import { findProvider } from '../providers/registry';
import { getIntegration } from '../store/integrations';
import { conflict } from './errors';
import { changeHealth } from './health';
import { healthStatuses } from './integration';
import { requireVisibleIntegration } from './lifecycle';

export const healthCheckResultSchema = z.object({
  integrationId: z.string(),
  providerId: z.string(),
  checkedAt: z.iso.datetime(),
  /** What the probe found: the token works, the provider failed for now, or the grant is gone. */
  result: z.enum(['healthy', 'degraded', 'disconnected']),
  errorCode: z.string().nullable(),
  healthStatus: z.enum(healthStatuses),
  healthReason: z.string(),
  healthChangedAt: z.iso.datetime(),
});
export type HealthCheckResult = z.infer<typeof healthCheckResultSchema>;

/** POST /api/integrations/{id}/health-check */
export async function runHealthCheck(orgId: string, integrationId: string, now: Date = new Date()): Promise<HealthCheckResult> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  if (integration.status !== 'active') throw conflict('The integration is not connected; reconnect it');
  const probe = findProvider(integration.providerId)?.probe;
  if (!probe) throw conflict(`${integration.providerId} offers no health check`);

  let result: HealthCheckResult['result'] = 'healthy';
  let errorCode: string | null = null;
  try {
    await withAccessToken(integration, probe.credentialKind, (accessToken) => probe.run(accessToken));
    const current = await getIntegration(orgId, integration.id);
    // A sync in progress owns the `syncing` state and settles it itself.
    if (current?.healthStatus !== 'syncing') await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'health_check_passed' }, now);
  } catch (error) {
    // Only what the provider or the token manager said counts; anything else is our failure (500), not the integration's.
    if (!(error instanceof ProviderError || error instanceof MalformedProviderResponseError || error instanceof IntegrationUnavailableError)) throw error;
    errorCode = error instanceof IntegrationUnavailableError ? error.reason : errorCodeOf(error);
    if ((await getIntegration(orgId, integration.id))?.status !== 'active') {
      // The grant was dead: the token manager disconnected the integration (lifecycle.disconnectDeadGrant).
      result = 'disconnected';
    } else {
      result = 'degraded';
      await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: `health_check_failed:${errorCode}` }, now);
    }
  }
  const latest = (await getIntegration(orgId, integration.id)) ?? integration;
  return {
    integrationId: integration.id,
    providerId: integration.providerId,
    checkedAt: now.toISOString(),
    result,
    errorCode,
    healthStatus: latest.healthStatus,
    healthReason: latest.healthReason,
    healthChangedAt: latest.healthChangedAt,
  };
}
