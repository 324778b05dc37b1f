import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { parseEnv } from '../../config';
import type { ProviderWebhookTest } from '../types';

/**
 * Slack Events API: request signing (v0 HMAC-SHA256 over `v0:<ts>:<raw body>`
 * with the app's signing secret, 5-minute window), the envelope, and the
 * events we act on, normalized.
 */
export const SLACK_REPLAY_WINDOW_SECONDS = 5 * 60;
export const SANDBOX_SLACK_SIGNING_SECRET = 'sandbox-slack-signing-secret';

/** The signing secret: SLACK_SIGNING_SECRET, or the sandbox's where the local runtime serves Slack's sandbox. */
export function slackSigningSecret(): string | undefined {
  const env = parseEnv(
    z.object({ SLACK_SIGNING_SECRET: z.string().min(8).optional(), SLACK_CLIENT_ID: z.string().optional(), SANDBOX_BASE_URL: z.string().optional() }),
    {
      SLACK_SIGNING_SECRET: process.env.SLACK_SIGNING_SECRET || undefined,
      SLACK_CLIENT_ID: process.env.SLACK_CLIENT_ID || undefined,
      SANDBOX_BASE_URL: process.env.SANDBOX_BASE_URL || undefined,
    },
  );
  if (env.SLACK_SIGNING_SECRET) return env.SLACK_SIGNING_SECRET;
  return env.SANDBOX_BASE_URL && !env.SLACK_CLIENT_ID ? SANDBOX_SLACK_SIGNING_SECRET : undefined;
}

export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

/** Fails closed: missing headers, a stale or future timestamp, or any mismatch is false. */
export function verifySlackRequest(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: Buffer;
  nowSeconds?: number;
}): boolean {
  const { timestamp, signature } = input;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp) || !/^v0=[0-9a-f]{64}$/.test(signature)) return false;
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(timestamp)) > SLACK_REPLAY_WINDOW_SECONDS) return false;
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody));
  const received = Buffer.from(signature);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

const innerEvent = z.looseObject({ type: z.string().min(1) });

export const slackEnvelopeSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('url_verification'), challenge: z.string().min(1).max(512) }),
  z.looseObject({
    type: z.literal('event_callback'),
    team_id: z.string().min(1),
    api_app_id: z.string().optional(),
    event_id: z.string().min(1).max(128),
    event_time: z.number().optional(),
    event: innerEvent,
  }),
  z.looseObject({ type: z.literal('app_rate_limited'), team_id: z.string().optional() }),
]);

export type SlackEnvelope = z.infer<typeof slackEnvelopeSchema>;

/** The event type of test deliveries sent by POST …/webhooks/test; Slack itself never sends it. */
export const SLACK_TEST_EVENT_TYPE = 'hr_integrations_webhook_test';
export const isSlackTestEvent = (envelope: Extract<SlackEnvelope, { type: 'event_callback' }>): boolean => envelope.event.type === SLACK_TEST_EVENT_TYPE;

/**
 * A test delivery for one integration: an `event_callback` of the test event
 * type for its workspace, addressed with `?webhook_id=` and signed with the
 * signing secret exactly as Slack signs.
 */
export function slackTestDelivery(input: { signingSecret: string; teamId: string; testId: string; nowSeconds?: number }): { headers: Record<string, string>; body: string } {
  const timestamp = String(input.nowSeconds ?? Math.floor(Date.now() / 1000));
  const body = JSON.stringify({
    type: 'event_callback',
    team_id: input.teamId,
    event_id: `EvTEST${input.testId}`,
    event_time: Number(timestamp),
    event: { type: SLACK_TEST_EVENT_TYPE },
  });
  return {
    headers: {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(input.signingSecret, timestamp, Buffer.from(body)),
    },
    body,
  };
}

/** The test event for POST …/webhooks/test: none when the signing secret is not configured (then Slack events are off too). */
export const slackWebhookTest: ProviderWebhookTest = {
  async build({ integration, testId }) {
    const signingSecret = slackSigningSecret();
    if (!signingSecret) return undefined;
    return { query: { webhook_id: integration.id }, ...slackTestDelivery({ signingSecret, teamId: integration.externalAccountId, testId }) };
  },
};

/** What a Slack event means for us. */
export type SlackEventMeaning =
  | { kind: 'data'; normalizedType: string; resource?: 'channels' | 'users'; data: Record<string, unknown> }
  | { kind: 'revoked'; reason: 'tokens_revoked' | 'app_uninstalled'; botRevoked: boolean }
  | { kind: 'ignored' };

const messageEvent = z.looseObject({
  type: z.literal('message'),
  channel: z.string(),
  user: z.string().optional(),
  text: z.string().optional(),
  ts: z.string(),
  subtype: z.string().optional(),
  channel_type: z.string().optional(),
});
const channelCreated = z.object({
  type: z.literal('channel_created'),
  channel: z.looseObject({ id: z.string(), name: z.string(), creator: z.string().optional(), created: z.number().optional() }),
});
const memberJoined = z.looseObject({ type: z.literal('member_joined_channel'), user: z.string(), channel: z.string(), channel_type: z.string().optional() });
const tokensRevoked = z.object({
  type: z.literal('tokens_revoked'),
  tokens: z.object({ oauth: z.array(z.string()).optional(), bot: z.array(z.string()).optional() }),
});

export function interpretSlackEvent(event: z.infer<typeof innerEvent>): SlackEventMeaning {
  switch (event.type) {
    case 'message': {
      const parsed = messageEvent.safeParse(event);
      if (!parsed.success) return { kind: 'ignored' };
      const { channel, user, text, ts, subtype, channel_type: channelType } = parsed.data;
      return {
        kind: 'data',
        normalizedType: 'message.created',
        data: { channelId: channel, userId: user ?? null, text: text ?? '', ts, subtype: subtype ?? null, channelType: channelType ?? null },
      };
    }
    case 'channel_created': {
      const parsed = channelCreated.safeParse(event);
      if (!parsed.success) return { kind: 'ignored' };
      const { id, name, creator } = parsed.data.channel;
      return { kind: 'data', normalizedType: 'channel.created', resource: 'channels', data: { channelId: id, name, creatorId: creator ?? null } };
    }
    case 'member_joined_channel': {
      const parsed = memberJoined.safeParse(event);
      if (!parsed.success) return { kind: 'ignored' };
      return {
        kind: 'data',
        normalizedType: 'channel.member_joined',
        resource: 'channels',
        data: { channelId: parsed.data.channel, userId: parsed.data.user },
      };
    }
    case 'tokens_revoked': {
      const parsed = tokensRevoked.safeParse(event);
      if (!parsed.success) return { kind: 'ignored' };
      return { kind: 'revoked', reason: 'tokens_revoked', botRevoked: (parsed.data.tokens.bot ?? []).length > 0 };
    }
    case 'app_uninstalled':
      return { kind: 'revoked', reason: 'app_uninstalled', botRevoked: true };
    default:
      return { kind: 'ignored' };
  }
}
