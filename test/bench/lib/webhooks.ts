import { slackSignature } from '../../../shared/providers/slack/webhook';
import type { IntegrationRecord } from '../../../shared/domain/integration';

/**
 * What the webhook sections share: the Slack workspace they route to, a
 * seeded integration record, and signed Slack Events API requests as Slack
 * sends them (v0 HMAC-SHA256 over `v0:<timestamp>:<raw body>`).
 */
export const BENCH_SLACK_TEAM = 'T0BENCH';

/** An active, healthy integration connected to `externalAccountId` (what connect would have stored). */
export function benchIntegration(input: { id: string; orgId: string; providerId: string; externalAccountId: string }): IntegrationRecord {
  const now = new Date().toISOString();
  return {
    id: input.id,
    orgId: input.orgId,
    providerId: input.providerId,
    status: 'active',
    healthStatus: 'healthy',
    healthReason: 'Connected',
    healthChangedAt: now,
    externalAccountId: input.externalAccountId,
    externalAccountName: `Bench ${input.providerId} account`,
    scopesGranted: [],
    connectedAt: now,
    connectedBy: 'bench-admin',
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/** A Slack `event_callback` with a `message` event (data, no sync request), distinct by `eventId`. */
export function slackMessageBody(teamId: string, eventId: string, sequence: number): string {
  const seconds = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: 'verification-token-unused',
    team_id: teamId,
    api_app_id: 'A0BENCH',
    type: 'event_callback',
    event_id: eventId,
    event_time: seconds,
    event: {
      type: 'message',
      channel: 'C0BENCH',
      user: 'U0BENCH',
      text: `bench message ${sequence}`,
      ts: `${seconds}.${String(sequence % 1_000_000).padStart(6, '0')}`,
      channel_type: 'channel',
    },
  });
}

/** The headers Slack sends with a body signed by `secret` now (or at `timestamp`). */
export function slackHeaders(secret: string, body: string, extra: Record<string, string> = {}, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const ts = String(timestamp);
  return {
    'content-type': 'application/json',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': slackSignature(secret, ts, Buffer.from(body)),
    ...extra,
  };
}
