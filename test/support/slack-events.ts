import { randomUUID } from 'node:crypto';
import { slackSignature } from '../../shared/providers/slack/webhook';

/** Signed Slack Events API requests, as Slack sends them. */
export function signedSlackRequest(secret: string, payload: unknown, options: { timestamp?: number; retryNum?: number } = {}) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(secret, timestamp, Buffer.from(body)),
      ...(options.retryNum === undefined ? {} : { 'x-slack-retry-num': String(options.retryNum), 'x-slack-retry-reason': 'http_timeout' }),
    },
  };
}

export function slackEventCallback(teamId: string, event: Record<string, unknown>, eventId = `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`) {
  return { token: 'verification-token-unused', team_id: teamId, api_app_id: 'A0SANDBOX', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), event };
}
