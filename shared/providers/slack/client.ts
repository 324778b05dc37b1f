import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import { retryAfterSeconds, type ProviderResponse } from '../../oauth/http';
import { apiCall, parseProviderResponse, providerHost, type RetryOptions } from '../api-call';
import type { ProviderProbe } from '../types';
import { SLACK_BOT, slackOAuth } from './oauth';

/**
 * Slack Web API calls. Slack answers HTTP 200 `{ok:false, error}` for almost
 * every failure (only 429 has a meaningful status), so the error code decides
 * the kind: an expired or invalid token is `unauthorized` (refresh and retry
 * once), a dead grant `terminal`, a rate limit `transient`, the rest `rejected`.
 */
const PROVIDER = 'slack';

const UNAUTHORIZED = new Set(['invalid_auth', 'not_authed', 'token_expired']);
const TERMINAL = new Set(['token_revoked', 'account_inactive']);
const TRANSIENT = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable']);

export function slackErrorKind(code: string): ProviderError['kind'] {
  if (UNAUTHORIZED.has(code)) return 'unauthorized';
  if (TERMINAL.has(code)) return 'terminal';
  if (TRANSIENT.has(code)) return 'transient';
  return 'rejected';
}

const failure = z.object({ ok: z.literal(false), error: z.string().min(1) });

/** The `ok:true` body of a Slack method, or a ProviderError for `ok:false`. */
function readSlack<S extends z.ZodType>(method: string, schema: S) {
  return (response: ProviderResponse): z.infer<S> => {
    const error = failure.safeParse(response.json);
    if (error.success) {
      const code = error.data.error;
      const kind = slackErrorKind(code);
      throw new ProviderError(PROVIDER, code, response.status, kind, kind === 'transient' ? retryAfterSeconds(response.headers) : undefined);
    }
    if (response.status !== 200) {
      throw new ProviderError(PROVIDER, `http_${response.status}`, response.status, response.status === 401 ? 'unauthorized' : 'rejected');
    }
    return parseProviderResponse(PROVIDER, schema, response.json, `${method} response`);
  };
}

const postMessageResponse = z.object({ ok: z.literal(true), channel: z.string().min(1), ts: z.string().min(1) });
const createChannelResponse = z.object({
  ok: z.literal(true),
  channel: z.object({ id: z.string().min(1), name: z.string().min(1), is_private: z.boolean().optional() }),
});

export interface SlackMessageOptions {
  /** Reply in the thread of this message. */
  threadTs?: string;
  /** Also show a thread reply in the channel. */
  replyBroadcast?: boolean;
  /** Block Kit blocks; `text` is then the notification fallback. */
  blocks?: ReadonlyArray<Record<string, unknown>>;
  mrkdwn?: boolean;
  unfurlLinks?: boolean;
  unfurlMedia?: boolean;
}

export interface SlackSentMessage {
  /** The channel id Slack posted to (even when given a name). */
  channel: string;
  /** The message timestamp, its id within the channel. */
  ts: string;
}

export interface SlackChannel {
  id: string;
  name: string;
  isPrivate: boolean;
}

const authTestResponse = z.looseObject({ ok: z.literal(true), team_id: z.string().min(1), user_id: z.string().min(1) });
const pageMeta = z.object({ next_cursor: z.string().optional() }).optional();
const usersListResponse = z.object({
  ok: z.literal(true),
  members: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string().optional(),
      deleted: z.boolean().optional(),
      real_name: z.string().optional(),
      is_bot: z.boolean().optional(),
      is_admin: z.boolean().optional(),
      tz: z.string().nullish(),
      profile: z.looseObject({ email: z.string().optional(), display_name: z.string().optional(), title: z.string().optional() }).optional(),
    }),
  ),
  response_metadata: pageMeta,
});
const conversationsListResponse = z.object({
  ok: z.literal(true),
  channels: z.array(
    z.looseObject({
      id: z.string().min(1),
      name: z.string().optional(),
      is_private: z.boolean().optional(),
      is_archived: z.boolean().optional(),
      num_members: z.number().optional(),
      created: z.number().optional(),
      topic: z.looseObject({ value: z.string().optional() }).optional(),
    }),
  ),
  response_metadata: pageMeta,
});

export type SlackUser = z.infer<typeof usersListResponse>['members'][number];
export type SlackListedChannel = z.infer<typeof conversationsListResponse>['channels'][number];

export interface SlackPage<T> {
  items: T[];
  /** Absent on the last page. */
  nextCursor?: string;
}

export interface SlackClient {
  /** users.list, one page (cursor pagination). */
  listUsers(accessToken: string, cursor?: string, limit?: number): Promise<SlackPage<SlackUser>>;
  /** conversations.list of public and private channels, archived included, one page. */
  listChannels(accessToken: string, cursor?: string, limit?: number): Promise<SlackPage<SlackListedChannel>>;
  /** chat.postMessage. `channel` is a channel id (or a name such as `#general`). */
  sendMessage(accessToken: string, channel: string, text: string, options?: SlackMessageOptions): Promise<SlackSentMessage>;
  /** conversations.create. Slack enforces its naming rule (lowercase letters, digits, `-`, `_`, at most 80). */
  createChannel(accessToken: string, name: string, isPrivate?: boolean): Promise<SlackChannel>;
  /** auth.test: who the token is (the health check's probe). */
  authTest(accessToken: string): Promise<{ teamId: string; userId: string }>;
}

export function createSlackClient(retry: RetryOptions = {}): SlackClient {
  // Every Slack method is a POST; `acts` marks the ones that change something (see apiCall).
  const method = <T>(accessToken: string, name: string, body: Record<string, unknown>, read: (response: ProviderResponse) => T, acts = false) =>
    apiCall(
      {
        providerId: PROVIDER,
        method: 'POST',
        url: `${providerHost(PROVIDER, slackOAuth, 'slack')}/api/${name}`,
        accessToken,
        body: { json: body },
        read,
        rateLimitCode: 'ratelimited',
        acts,
      },
      retry,
    );

  const page = <T>(items: T[], cursor: string | undefined): SlackPage<T> => (cursor ? { items, nextCursor: cursor } : { items });

  return {
    async listUsers(accessToken, cursor, limit = 200) {
      const body = await method(accessToken, 'users.list', { limit, ...(cursor ? { cursor } : {}) }, readSlack('users.list', usersListResponse));
      return page(body.members, body.response_metadata?.next_cursor);
    },

    async listChannels(accessToken, cursor, limit = 200) {
      const body = await method(
        accessToken,
        'conversations.list',
        { limit, types: 'public_channel,private_channel', exclude_archived: false, ...(cursor ? { cursor } : {}) },
        readSlack('conversations.list', conversationsListResponse),
      );
      return page(body.channels, body.response_metadata?.next_cursor);
    },

    async sendMessage(accessToken, channel, text, options = {}) {
      const body = await method(
        accessToken,
        'chat.postMessage',
        {
          channel,
          text,
          ...(options.threadTs !== undefined ? { thread_ts: options.threadTs } : {}),
          ...(options.replyBroadcast !== undefined ? { reply_broadcast: options.replyBroadcast } : {}),
          ...(options.blocks !== undefined ? { blocks: options.blocks } : {}),
          ...(options.mrkdwn !== undefined ? { mrkdwn: options.mrkdwn } : {}),
          ...(options.unfurlLinks !== undefined ? { unfurl_links: options.unfurlLinks } : {}),
          ...(options.unfurlMedia !== undefined ? { unfurl_media: options.unfurlMedia } : {}),
        },
        readSlack('chat.postMessage', postMessageResponse),
        true,
      );
      return { channel: body.channel, ts: body.ts };
    },

    async createChannel(accessToken, name, isPrivate = false) {
      const body = await method(
        accessToken,
        'conversations.create',
        { name, is_private: isPrivate },
        readSlack('conversations.create', createChannelResponse),
        true,
      );
      return { id: body.channel.id, name: body.channel.name, isPrivate: body.channel.is_private ?? isPrivate };
    },

    async authTest(accessToken) {
      const body = await method(accessToken, 'auth.test', {}, readSlack('auth.test', authTestResponse));
      return { teamId: body.team_id, userId: body.user_id };
    },
  };
}

export const slackClient: SlackClient = createSlackClient();

/** The health check's probe: auth.test with the bot token, Slack's own "is this token alive". */
export const slackProbe: ProviderProbe = {
  credentialKind: SLACK_BOT,
  async run(accessToken) {
    await slackClient.authTest(accessToken);
  },
};
