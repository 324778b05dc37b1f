import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import type { DataChange } from './data';
import { SandboxConflictError } from './errors';
import { epochSeconds, randomB64url, randomChars, randomDigits, UPPER_ALNUM } from './ids';
import { httpUrlSchema, type Deliverer, type DeliveryOutcome, type PushConfig } from './push';
import { slackChannelObject, slackTeam } from './slack-team';
import type { SandboxStore, SlackEventAttempt, SlackEventDelivery } from './state';

/**
 * The Slack Events API as Slack sends it: `event_callback` envelopes signed
 * with `x-slack-signature: v0=HMAC-SHA256(secret, "v0:<ts>:<body>")` and
 * `x-slack-request-timestamp` (sandbox clock), answered 2xx within 3 s or
 * retried up to 3 times with `x-slack-retry-num` (1..3) and
 * `x-slack-retry-reason` (`http_timeout`, `http_error`, `connection_failed`);
 * an error answer carrying `x-slack-no-retry: 1` stops the retries. The body
 * of every attempt is the same (same `event_id`), each attempt signed anew.
 *
 * Automatic events (when `slackEventsUrl` is configured): a channel added
 * (`conversations.create` or the data control API, not `bulk-add`) sends
 * `channel_created` (public channels) then `member_joined_channel` for each
 * initial member; a member joining (`join`, or an update adding members)
 * sends `member_joined_channel`; `chat.postMessage` sends `message`. They go
 * out in order per team; events sent through `/_control/slack/events` go out
 * at once.
 */

export const SLACK_USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';
const MAX_RETRIES = 3;

export const slackEventInputSchema = z
  .object({
    /** The workspace (default: the sandbox's default team). */
    teamId: z.string().regex(/^T[A-Za-z0-9]{2,20}$/).optional(),
    /** The inner event; `event_ts` is added when absent. */
    event: z.looseObject({ type: z.string().min(1) }),
    /** Retry like Slack (up to 3 times) until a 2xx (default true); false: one attempt. */
    retryUntilOk: z.boolean().optional(),
    /** Where to send (default: the configured `slackEventsUrl`). */
    url: httpUrlSchema.optional(),
    /** A fixed `event_id` (default: a new `Ev…`), e.g. to redeliver one. */
    eventId: z.string().min(1).max(128).optional(),
    /** A fixed `x-slack-request-timestamp` in seconds (default: the sandbox clock), e.g. a stale one. */
    timestamp: z.number().int().min(0).optional(),
    /** Sign with another secret (default: the configured one), e.g. a forged signature. */
    signingSecret: z.string().min(1).optional(),
  })
  .strict();
export type SlackEventInput = z.infer<typeof slackEventInputSchema>;

export const slackUrlVerificationInputSchema = z
  .object({ url: httpUrlSchema.optional(), challenge: z.string().min(1).max(512).optional(), teamId: z.string().regex(/^T[A-Za-z0-9]{2,20}$/).optional() })
  .strict();
export type SlackUrlVerificationInput = z.infer<typeof slackUrlVerificationInputSchema>;

export interface SlackUrlVerificationResult {
  url: string;
  challenge: string;
  status: number | null;
  /** The app answered 200 with the challenge (as text, or as JSON `{challenge}`). */
  ok: boolean;
  body: string;
  contentType: string;
  error?: string;
  durationMs: number;
}

export type SlackEventResult = SlackEventDelivery;

export interface SlackEvents {
  send(input: SlackEventInput): Promise<SlackEventResult>;
  urlVerification(input: SlackUrlVerificationInput): Promise<SlackUrlVerificationResult>;
  /** An automatic event (nothing happens when no `slackEventsUrl` is configured). */
  emit(teamId: string, event: Record<string, unknown>): void;
  /** Automatic events for a data change (channels created, members joining). */
  onDataChange(change: DataChange): void;
  deliveries(): SlackEventDelivery[];
}

interface Deps {
  store: SandboxStore;
  deliverer: Deliverer;
  config: () => PushConfig;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`, as Slack signs. */
export function signSlackRequest(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

const is2xx = (status: number | null): boolean => status !== null && status >= 200 && status < 300;

function retryReason(outcome: DeliveryOutcome): string {
  if (outcome.status !== null) return 'http_error';
  return outcome.failure === 'timeout' ? 'http_timeout' : 'connection_failed';
}

export function createSlackEvents({ store, deliverer, config }: Deps): SlackEvents {
  const eventTs = (): string => `${epochSeconds(store.now())}.${randomDigits(6)}`;

  function signedHeaders(body: string, secret: string, timestamp: number): Record<string, string> {
    const ts = String(timestamp);
    return {
      'content-type': 'application/json',
      'user-agent': SLACK_USER_AGENT,
      'x-slack-request-timestamp': ts,
      'x-slack-signature': signSlackRequest(secret, ts, body),
    };
  }

  function envelope(teamId: string, event: Record<string, unknown>, eventId: string): Record<string, unknown> {
    const team = slackTeam(teamId);
    const seconds = epochSeconds(store.now());
    const context = Buffer.from(JSON.stringify({ tid: teamId, aid: team.appId, cid: typeof event.channel === 'string' ? event.channel : null })).toString('base64url');
    return {
      token: team.verificationToken,
      team_id: teamId,
      context_team_id: teamId,
      context_enterprise_id: null,
      api_app_id: team.appId,
      event: { ...event, event_ts: typeof event.event_ts === 'string' ? event.event_ts : eventTs() },
      type: 'event_callback',
      event_id: eventId,
      event_time: seconds,
      authorizations: [{ enterprise_id: null, team_id: teamId, user_id: team.bot.id, is_bot: true, is_enterprise_install: false }],
      is_ext_shared_channel: false,
      event_context: `4-${context}`,
    };
  }

  async function deliver(delivery: SlackEventDelivery, input: { retry: boolean; timestamp?: number; secret?: string }): Promise<SlackEventDelivery> {
    const body = JSON.stringify(delivery.envelope);
    let reason: string | undefined;
    for (let retryNum = 0; retryNum <= (input.retry ? MAX_RETRIES : 0); retryNum += 1) {
      if (retryNum > 0 && !(await deliverer.wait(config().slackRetryDelaysMs[retryNum - 1] ?? 0))) break;
      const settings = config();
      const at = store.now();
      const headers = {
        ...signedHeaders(body, input.secret ?? settings.slackSigningSecret, input.timestamp ?? epochSeconds(at)),
        ...(retryNum > 0 && reason !== undefined ? { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': reason } : {}),
      };
      const outcome = await deliverer.send(delivery.url, { headers, body, timeoutMs: settings.slackEventsTimeoutMs });
      const attempt: SlackEventAttempt = {
        retryNum,
        ...(retryNum > 0 && reason !== undefined ? { retryReason: reason } : {}),
        at: new Date(at).toISOString(),
        status: outcome.status,
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
        durationMs: outcome.durationMs,
      };
      delivery.attempts.push(attempt);
      if (is2xx(outcome.status)) {
        delivery.delivered = true;
        break;
      }
      if (outcome.failure === 'aborted') break;
      if (outcome.status !== null && outcome.headers['x-slack-no-retry'] === '1') {
        delivery.noRetry = true;
        break;
      }
      reason = retryReason(outcome);
    }
    return delivery;
  }

  function start(teamId: string, event: Record<string, unknown>, url: string, automatic: boolean, eventId?: string): SlackEventDelivery {
    const delivery: SlackEventDelivery = {
      eventId: eventId ?? `Ev${randomChars(10, UPPER_ALNUM)}`,
      teamId,
      type: event.type as string,
      url,
      automatic,
      delivered: false,
      attempts: [],
      envelope: {},
    };
    delivery.envelope = envelope(teamId, event, delivery.eventId);
    store.record('slackEvents', delivery);
    return delivery;
  }

  function send(input: SlackEventInput): Promise<SlackEventResult> {
    const url = input.url ?? config().slackEventsUrl;
    if (!url) throw new SandboxConflictError('No Slack events URL: configure it first (sandbox.configurePush({ slackEventsUrl }) or POST /_control/push-config), or pass url');
    const teamId = (input.teamId ?? SANDBOX_DEFAULT_ACCOUNTS.slack).toUpperCase();
    const delivery = start(teamId, input.event, url, false, input.eventId);
    const options = {
      retry: input.retryUntilOk !== false,
      ...(input.timestamp !== undefined ? { timestamp: input.timestamp } : {}),
      ...(input.signingSecret !== undefined ? { secret: input.signingSecret } : {}),
    };
    return deliverer.enqueue(`slack-event:${delivery.eventId}:${randomB64url(6)}`, () => deliver(delivery, options));
  }

  function emit(teamId: string, event: Record<string, unknown>): void {
    const url = config().slackEventsUrl;
    if (!url) return;
    const delivery = start(teamId, event, url, true);
    void deliverer.enqueue(`slack-events:${teamId}`, () => deliver(delivery, { retry: true }));
  }

  function onDataChange(change: DataChange): void {
    if (change.resource !== 'channels' || change.bulk || change.kind === 'delete') return;
    if (!config().slackEventsUrl) return;
    const value = change.item.value;
    const members = (list: unknown): string[] => (Array.isArray(list) ? list.filter((member): member is string => typeof member === 'string') : []);
    const isPrivate = value.is_private === true;
    const joined = (user: string) =>
      emit(change.account, { type: 'member_joined_channel', user, channel: change.item.id, channel_type: isPrivate ? 'G' : 'C', team: change.account });
    if (change.kind === 'add') {
      if (!isPrivate) {
        const channel = slackChannelObject(value);
        emit(change.account, {
          type: 'channel_created',
          channel: {
            id: channel.id,
            name: channel.name,
            name_normalized: channel.name_normalized,
            created: channel.created,
            creator: channel.creator,
            is_channel: true,
            is_private: false,
            is_shared: false,
            is_archived: false,
            context_team_id: change.account,
          },
        });
      }
      for (const user of members(value.members)) joined(user);
      return;
    }
    const before = new Set(members(change.previous?.members));
    for (const user of members(value.members)) if (!before.has(user)) joined(user);
  }

  async function urlVerification(input: SlackUrlVerificationInput): Promise<SlackUrlVerificationResult> {
    const url = input.url ?? config().slackEventsUrl;
    if (!url) throw new SandboxConflictError('No Slack events URL: configure it first (sandbox.configurePush({ slackEventsUrl })), or pass url');
    const team = slackTeam((input.teamId ?? SANDBOX_DEFAULT_ACCOUNTS.slack).toUpperCase());
    const challenge = input.challenge ?? randomB64url(39);
    const body = JSON.stringify({ token: team.verificationToken, challenge, type: 'url_verification' });
    const settings = config();
    const outcome = await deliverer.enqueue(`slack-verification:${randomB64url(6)}`, () =>
      deliverer.send(url, { headers: signedHeaders(body, settings.slackSigningSecret, epochSeconds(store.now())), body, timeoutMs: settings.slackEventsTimeoutMs }),
    );
    let echoed = outcome.body.trim() === challenge;
    if (!echoed && /json/i.test(outcome.contentType)) {
      try {
        const parsed = z.object({ challenge: z.string() }).safeParse(JSON.parse(outcome.body));
        echoed = parsed.success && parsed.data.challenge === challenge;
      } catch {
        echoed = false;
      }
    }
    return {
      url,
      challenge,
      status: outcome.status,
      ok: outcome.status === 200 && echoed,
      body: outcome.body.slice(0, 2_000),
      contentType: outcome.contentType,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      durationMs: outcome.durationMs,
    };
  }

  return { send, urlVerification, emit, onDataChange, deliveries: () => [...store.records.slackEvents] };
}
