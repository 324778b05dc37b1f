import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as slackWebhook } from '../../functions/webhooks/slack';
import { functionUrlEvent, lambdaContext } from '../../infra/local/lambda-events';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/metric-names';
import { ProviderError } from '../../shared/oauth/errors';
import { createIntegration } from '../../shared/store/integrations';
import { replaceCredentials } from '../../shared/store/tokens';
import { runSync } from '../../shared/sync/engine';
import type { ProviderSync } from '../../shared/sync/types';
import { integrationRecord, uniqueOrg } from '../support/api';
import { startTestEventBus } from '../support/event-bus';
import { signedSlackRequest, slackEventCallback } from '../support/slack-events';

/**
 * The counts the stack's alarms read: each is one EMF line in the namespace,
 * with the `service` dimension the alarms query (a metric with other
 * dimensions is another metric, and the alarm would never see it).
 */
const SECRET = 'metrics-signing-secret-0123456789';
let events: Awaited<ReturnType<typeof startTestEventBus>>;
let lines: string[] = [];

beforeAll(async () => {
  events = await startTestEventBus('hr-integrations-test');
  process.env.SLACK_SIGNING_SECRET = SECRET;
  process.env.SANDBOX_BASE_URL = 'http://127.0.0.1:9/sandbox';
});
afterAll(() => events.close());
afterEach(() => vi.restoreAllMocks());

function capture() {
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
  });
}

/** The values of one metric among the captured EMF lines, checking namespace and dimensions. */
function emitted(name: string): number[] {
  return lines.flatMap((line) => {
    if (!line.includes('"_aws"')) return [];
    const emf = JSON.parse(line) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } } & Record<string, unknown>;
    const directive = emf._aws.CloudWatchMetrics[0];
    if (!directive?.Metrics.some((metric) => metric.Name === name)) return [];
    expect(directive.Namespace).toBe(METRICS_NAMESPACE);
    expect(directive.Dimensions).toEqual([['service']]);
    expect(emf.service).toBe(METRICS_SERVICE);
    return [Number(emf[name])];
  });
}

const pages = (pull: ProviderSync['resources'][string]['pull']): ProviderSync => ({
  credentialKind: 'slack-bot',
  resources: { items: { keepCursorAfterPass: false, pull } },
});

async function connectedIntegration(teamId = 'T0METRICS') {
  const record = integrationRecord(uniqueOrg('metrics'), { providerId: 'slack', externalAccountId: teamId });
  await createIntegration(record);
  await replaceCredentials({ orgId: record.orgId, integrationId: record.id, providerId: 'slack' }, [{ kind: 'slack-bot', accessToken: 'xoxb-metrics', scopes: [] }]);
  return record;
}

describe('operational metrics', () => {
  it('a sync counts as succeeded with its records, or as failed', async () => {
    const record = await connectedIntegration();
    capture();
    const three = pages(() => Promise.resolve({ changes: ['U1', 'U2', 'U3'].map((id) => ({ externalId: id, op: 'upsert' as const, data: {} })), cursor: undefined, complete: true }));
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => three)).toBe('succeeded');
    expect(emitted('SyncSucceeded')).toEqual([1]);
    expect(emitted('SyncRecords')).toEqual([3]);

    const refused = pages(() => Promise.reject(new ProviderError('slack', 'missing_scope', 200, 'rejected')));
    expect(await runSync({ orgId: record.orgId, integrationId: record.id, trigger: 'manual' }, () => refused)).toBe('failed');
    expect(emitted('SyncFailed')).toEqual([1]);
  });

  it('webhook deliveries count as accepted, duplicate or rejected', async () => {
    const record = await connectedIntegration(`T${Math.random().toString(36).slice(2, 10).toUpperCase()}`);
    const deliver = async (request: { body: string; headers: Record<string, string> }) =>
      slackWebhook(
        functionUrlEvent({ method: 'POST', rawPath: '/', rawQueryString: '', headers: request.headers, body: Buffer.from(request.body), sourceIp: '3.4.5.6' }),
        lambdaContext('slack-webhook', 3),
      );
    capture();
    const signed = signedSlackRequest(SECRET, slackEventCallback(record.externalAccountId, { type: 'message', channel: 'C1', text: 'hi', ts: '1.0' }));
    await deliver(signed);
    await deliver(signed);
    await deliver({ body: signed.body, headers: { ...signed.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` } });
    expect(emitted('WebhookAccepted')).toEqual([1]);
    expect(emitted('WebhookDuplicate')).toEqual([1]);
    expect(emitted('WebhookRejected')).toEqual([1]);
  });
});
