import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOpenAlerts, raiseAlert, resolveIntegrationAlerts } from '../../shared/domain/alerts';
import { changeHealth } from '../../shared/domain/health';
import { recordDisconnect } from '../../shared/domain/lifecycle';
import { createIntegration, getIntegration, updateLatestIntegration } from '../../shared/store/integrations';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';

/**
 * raiseAlert's contract on the table: one open alert and one event per
 * organisation, integration and kind while it is open; organisation-level
 * alerts; none for an integration that is no longer connected; resolution
 * when health returns to healthy.
 */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
});
afterAll(() => events.close());

const healthEvents = (integrationId: string) =>
  events
    .eventsOfType('integration.health_changed')
    .map((event) => event.detail as { integrationId?: string; from?: string; to?: string; reason?: string })
    .filter((detail) => detail.integrationId === integrationId);
const alertEvents = (orgId: string) => events.eventsOfType('integration.alert').filter((event) => (event.detail as { orgId?: string }).orgId === orgId);

describe('raiseAlert', () => {
  it('is idempotent while open, per integration and kind; organisation-level alerts have no integration', async () => {
    const orgId = uniqueOrg('alerts');
    const integration = integrationRecord(orgId, { healthStatus: 'degraded', healthReason: 'sync_failed:http_503' });
    await createIntegration(integration);
    const syncFailing = { orgId, integrationId: integration.id, kind: 'sync_failing', reason: 'sync_failing', message: 'Syncing keeps failing.' };
    await Promise.all([raiseAlert(syncFailing), raiseAlert(syncFailing)]);
    await raiseAlert({ ...syncFailing, kind: 'webhook_lapsed', reason: 'webhook_lapsed', detail: { resource: 'calendar' } });
    await raiseAlert({ orgId, kind: 'endpoint_disabled', reason: 'endpoint_failing', message: 'An endpoint was disabled.', detail: { endpointId: 'ep_1' } });
    await raiseAlert({ orgId, kind: 'endpoint_disabled', reason: 'endpoint_failing', message: 'An endpoint was disabled.' });

    const { alerts } = await listOpenAlerts(orgId);
    expect(alerts.map((alert) => [alert.integrationId, alert.kind]).sort()).toEqual([
      [integration.id, 'sync_failing'],
      [integration.id, 'webhook_lapsed'],
      [null, 'endpoint_disabled'],
    ].sort());
    expect(alerts.find((alert) => alert.kind === 'sync_failing')).toMatchObject({ providerId: integration.providerId, reason: 'sync_failing', message: 'Syncing keeps failing.' });
    expect(alertEvents(orgId)).toHaveLength(3);
    expect(alertEvents(orgId).find((event) => (event.detail as { kind?: string }).kind === 'webhook_lapsed')?.detail).toMatchObject({
      integrationId: integration.id,
      providerId: integration.providerId,
      reason: 'webhook_lapsed',
      resource: 'calendar',
    });

    // Back to healthy resolves the integration's alerts, not the organisation's.
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: 'sync_failed:http_503' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'channel_renewed', evidence: 'channel' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'synced', evidence: 'sync' });
    expect((await listOpenAlerts(orgId)).alerts.map((alert) => alert.kind)).toEqual(['endpoint_disabled']);
    // Resolved, the same problem alerts again.
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: 'sync_failed:http_503' });
    await raiseAlert(syncFailing);
    expect(alertEvents(orgId)).toHaveLength(4);
    expect(await resolveIntegrationAlerts(orgId, integration.id)).toBe(1);
  });

  it('a success clears only the problems it vouches for: a probe the credential, a sync what it read, a renewal the channel', async () => {
    const orgId = uniqueOrg('alerts');
    const integration = integrationRecord(orgId, { providerId: 'google' });
    await createIntegration(integration);
    const health = async () => {
      const { healthStatus, healthReason } = (await getIntegration(orgId, integration.id)) ?? integration;
      return `${healthStatus}:${healthReason}`;
    };
    const openKinds = async () => (await listOpenAlerts(orgId)).alerts.map((alert) => alert.kind).sort();
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: 'subscription_renewal_failed' });
    await raiseAlert({ orgId, integrationId: integration.id, kind: 'webhook_lapsed', reason: 'webhook_lapsed', message: 'Lapsed.' });
    await raiseAlert({ orgId, integrationId: integration.id, kind: 'sync_failing', reason: 'sync_failing', message: 'Failing.' });

    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'health_check_passed', evidence: 'credential' });
    expect(await health()).toBe('degraded:subscription_renewal_failed');
    expect(await openKinds()).toEqual(['sync_failing', 'webhook_lapsed']);

    // A sync (syncing, then done against the state it started from) settles syncing problems, not the channel.
    const before = { healthStatus: 'degraded' as const, healthReason: 'subscription_renewal_failed' };
    await changeHealth(orgId, integration.id, { healthStatus: 'syncing', reason: 'sync_running', announceAgainst: 'never' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'synced', evidence: 'sync', announceAgainst: before });
    expect(await health()).toBe('degraded:subscription_renewal_failed');
    expect(await openKinds()).toEqual(['webhook_lapsed']);

    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'channel_renewed', evidence: 'channel' });
    expect(await health()).toBe('healthy:channel_renewed');
    expect(await openKinds()).toEqual([]);
    expect(healthEvents(integration.id).map((detail) => `${detail.from}>${detail.to}:${detail.reason}`)).toEqual([
      'healthy>degraded:subscription_renewal_failed',
      'degraded>healthy:channel_renewed',
    ]);

    // A revoked Slack user token is not what the bot-token probe or a bot-token sync use: it stays until reconnected.
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: 'user_token_revoked' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'health_check_passed', evidence: 'credential' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'synced', evidence: 'sync' });
    expect(await health()).toBe('degraded:user_token_revoked');
    // A probe's own failure is what a probe success clears.
    await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: 'health_check_failed:http_503' });
    await changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'health_check_passed', evidence: 'credential' });
    expect(await health()).toBe('healthy:health_check_passed');
  });

  it('an alert raised while health returns to healthy does not stay open (raised after, or racing it)', async () => {
    const orgId = uniqueOrg('alerts');
    const integration = integrationRecord(orgId);
    await createIntegration(integration);
    const syncFailing = { orgId, integrationId: integration.id, kind: 'sync_failing', reason: 'sync_failing', message: 'Syncing keeps failing.' };
    for (let round = 0; round < 10; round += 1) {
      await changeHealth(orgId, integration.id, { healthStatus: 'degraded', reason: `sync_failed:round_${round}` });
      const recovered = changeHealth(orgId, integration.id, { healthStatus: 'healthy', reason: 'synced', evidence: 'sync' });
      // Even rounds race the raise with the recovery; odd ones raise after it (a failure observed before the recovery).
      if (round % 2 === 0) await Promise.all([raiseAlert(syncFailing), recovered]);
      else await recovered.then(() => raiseAlert(syncFailing));
      expect((await getIntegration(orgId, integration.id))?.healthStatus).toBe('healthy');
      expect((await listOpenAlerts(orgId)).alerts).toEqual([]);
    }
  });

  it('a disconnect resolves the integration\'s alerts', async () => {
    const orgId = uniqueOrg('alerts');
    const integration = integrationRecord(orgId, { healthStatus: 'degraded', healthReason: 'sync_failed:http_503' });
    await createIntegration(integration);
    await raiseAlert({ orgId, integrationId: integration.id, kind: 'degraded', reason: 'degraded_for_an_hour', message: 'Degraded for an hour.' });
    expect((await listOpenAlerts(orgId)).alerts).toHaveLength(1);
    await recordDisconnect(integration, { reason: 'invalid_grant' });
    expect((await listOpenAlerts(orgId)).alerts).toEqual([]);
  });

  it('raises nothing for a disconnected integration', async () => {
    const orgId = uniqueOrg('alerts');
    const integration = integrationRecord(orgId);
    await createIntegration(integration);
    await updateLatestIntegration(orgId, integration.id, { status: 'disconnected', healthStatus: 'disconnected' });
    await raiseAlert({ orgId, integrationId: integration.id, kind: 'sync_failing', reason: 'sync_failing', message: 'Syncing keeps failing.' });
    expect((await listOpenAlerts(orgId)).alerts).toEqual([]);
    expect(alertEvents(orgId)).toEqual([]);
  });
});
