import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHealthCheck } from '../../shared/domain/health-check';
import { createIntegration, getIntegration } from '../../shared/store/integrations';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';

/**
 * The health check at the moment a disconnect is under way: the lifecycle has
 * deleted the credentials but not yet recorded the disconnect (the window a
 * parallel check that found the grant dead leaves). That is the lifecycle's
 * business, not a provider failure: no degraded state, no event.
 */
let events: Awaited<ReturnType<typeof startTestEventBus>>;
beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
});
afterAll(() => events.close());

describe('runHealthCheck', () => {
  it('with the credentials gone answers disconnected and changes nothing', async () => {
    const orgId = uniqueOrg('health');
    const integration = integrationRecord(orgId);
    await createIntegration(integration);
    expect(await runHealthCheck(orgId, integration.id)).toMatchObject({ result: 'disconnected', errorCode: 'no_credentials', healthStatus: 'healthy' });
    expect(await getIntegration(orgId, integration.id)).toMatchObject({ healthStatus: 'healthy', healthReason: 'connected' });
    expect(events.eventsOfType('integration.health_changed').filter((event) => (event.detail as { integrationId?: string }).integrationId === integration.id)).toEqual([]);
  });
});
