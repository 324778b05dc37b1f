import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import { retryAfterSeconds, type ProviderResponse } from '../../oauth/http';
import { apiCall, parseProviderResponse, providerHost, type RetryOptions } from '../api-call';
import { slackOAuth } from './oauth';

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

export interface SlackClient {
  /** chat.postMessage. `channel` is a channel id (or a name such as `#general`). */
  sendMessage(accessToken: string, channel: string, text: string, options?: SlackMessageOptions): Promise<SlackSentMessage>;
  /** conversations.create. Slack enforces its naming rule (lowercase letters, digits, `-`, `_`, at most 80). */
  createChannel(accessToken: string, name: string, isPrivate?: boolean): Promise<SlackChannel>;
}

export function createSlackClient(retry: RetryOptions = {}): SlackClient {
  const method = <T>(accessToken: string, name: string, body: Record<string, unknown>, read: (response: ProviderResponse) => T) =>
    apiCall(
      {
        providerId: PROVIDER,
        method: 'POST',
        url: `${providerHost(PROVIDER, slackOAuth, 'slack')}/api/${name}`,
        accessToken,
        body: { json: body },
        read,
        rateLimitCode: 'ratelimited',
      },
      retry,
    );

  return {
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
      );
      return { channel: body.channel, ts: body.ts };
    },

    async createChannel(accessToken, name, isPrivate = false) {
      const body = await method(
        accessToken,
        'conversations.create',
        { name, is_private: isPrivate },
        readSlack('conversations.create', createChannelResponse),
      );
      return { id: body.channel.id, name: body.channel.name, isPrivate: body.channel.is_private ?? isPrivate };
    },
  };
}

export const slackClient: SlackClient = createSlackClient();
