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
import type { ProviderProbe } from '../providers/types';
import { getIntegration } from '../store/integrations';
import { conflict } from './errors';
import { changeHealth } from './health';
import { healthStatuses, type IntegrationRecord } from './integration';
import { requireVisibleIntegration } from './lifecycle';

export const healthCheckResultSchema = z.object({
  integrationId: z.string(),
  providerId: z.string(),
  checkedAt: z.iso.datetime(),
  /**
   * What the probe found: the token works, the provider failed for now, the grant is gone (or the
   * integration was disconnected meanwhile), or the provider asked us to slow down (nothing learnt: try later).
   */
  result: z.enum(['healthy', 'degraded', 'disconnected', 'rate_limited']),
  errorCode: z.string().nullable(),
  healthStatus: z.enum(healthStatuses),
  healthReason: z.string(),
  healthChangedAt: z.iso.datetime(),
});
export type HealthCheckResult = z.infer<typeof healthCheckResultSchema>;

/** POST /api/integrations/{id}/health-check */
export async function runHealthCheck(orgId: string, integrationId: string): Promise<HealthCheckResult> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  if (integration.status !== 'active') throw conflict('The integration is not connected; reconnect it');
  const probe = findProvider(integration.providerId)?.probe;
  if (!probe) throw conflict(`${integration.providerId} offers no health check`);

  const outcome = await probeOutcome(integration, probe);
  // The time of the outcome, not of the request: a slow probe never moves healthChangedAt backwards.
  const checkedAt = new Date();
  if (outcome.result === 'healthy') {
    // A probe vouches for its credential only (health.ts); a running sync settles `syncing` itself.
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'health_check_passed', evidence: 'credential', unlessSyncing: true }, checkedAt);
  } else if (outcome.result === 'degraded') {
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: `health_check_failed:${outcome.errorCode}`, unlessSyncing: true }, checkedAt);
  }
  const latest = (await getIntegration(orgId, integration.id)) ?? integration;
  return {
    integrationId: integration.id,
    providerId: integration.providerId,
    checkedAt: checkedAt.toISOString(),
    ...outcome,
    healthStatus: latest.healthStatus,
    healthReason: latest.healthReason,
    healthChangedAt: latest.healthChangedAt,
  };
}

/** Runs the probe through the token manager and says what it showed; anything but a provider's or the token manager's answer is our failure (500). */
async function probeOutcome(integration: IntegrationRecord, probe: ProviderProbe): Promise<Pick<HealthCheckResult, 'result' | 'errorCode'>> {
  try {
    await withAccessToken(integration, probe.credentialKind, (accessToken) => probe.run(accessToken));
    return { result: 'healthy', errorCode: null };
  } catch (error) {
    if (error instanceof ProviderError && error.status === 429) return { result: 'rate_limited', errorCode: error.code };
    if (error instanceof IntegrationUnavailableError) {
      // Gone credentials or a status other than active: the lifecycle owns the integration now (a disconnect, a dead
      // grant being disconnected by a parallel call); not the provider's failure. Otherwise a parallel refresh held
      // the token (its lease): that says nothing about the provider either, so try again.
      const current = await getIntegration(integration.orgId, integration.id);
      if (error.reason === 'no_credentials' || current?.status !== 'active') return { result: 'disconnected', errorCode: error.reason };
      throw conflict('A token refresh for this integration is under way; try again in a moment');
    }
    if (error instanceof ProviderError || error instanceof MalformedProviderResponseError) return { result: 'degraded', errorCode: errorCodeOf(error) };
    throw error;
  }
}
