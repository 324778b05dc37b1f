import * as z from 'zod';
import { checkCode, handleAuthorize, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { pageSize, type SyncData } from './data';
import { addDataItem } from './data-ops';
import { renderErrorPage } from './consent';
import { DEFAULT_RETRY_AFTER_SECONDS } from './faults';
import {
  bearerToken,
  clientCredentials,
  htmlResponse,
  jsonResponse,
  requestParams,
  stringParams,
  type SandboxRequest,
  type SandboxResponse,
} from './http';
import { epochSeconds, randomB64url, randomDigits, randomHex, stableChars, UPPER_ALNUM } from './ids';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { SlackEvents } from './slack-events';
import { slackChannelObject, slackTeam, type SlackUser } from './slack-team';
import type { GrantRecord, SandboxStore } from './state';

export { slackTeam } from './slack-team';

/**
 * Slack: OAuth v2 with token rotation and the Web API methods the app uses.
 * Every answer is HTTP 200 with `ok` (errors `{ok:false,error}`), except
 * rate limiting (429 + Retry-After) and unknown methods (404).
 *
 * Users and channels live in the sync data (seeded per team: the admin, the
 * bot and three members; #general and #random): `users.list` and
 * `conversations.list` page through them with opaque cursors
 * (`response_metadata.next_cursor`, '' on the last page); `limit` defaults to
 * 100 and is capped at 1000 (conversations.list documents "under 1000";
 * users.list recommends no more than 200 and pages larger asks anyway).
 */

/** `limit` of users.list and conversations.list. */
export const SLACK_LIST_LIMITS = { default: 100, max: 1_000 } as const;
const CONVERSATION_TYPES = ['public_channel', 'private_channel', 'mpim', 'im'] as const;
const TYPE_SCOPES: Record<(typeof CONVERSATION_TYPES)[number], string[]> = {
  public_channel: ['channels:read'],
  private_channel: ['groups:read'],
  mpim: ['mpim:read'],
  im: ['im:read'],
};

export const SLACK_ACCESS_TTL_SECONDS = 43_200;
const MAX_TEXT = 40_000;

// --- responses ---

function slackHeaders(granted?: string[], accepted?: string[]): Record<string, string> {
  return {
    ...(granted ? { 'x-oauth-scopes': granted.join(',') } : {}),
    ...(accepted ? { 'x-accepted-oauth-scopes': accepted.join(',') } : {}),
  };
}

const ok = (body: Record<string, unknown>, headers: Record<string, string> = {}): SandboxResponse =>
  jsonResponse(200, { ok: true, ...body }, headers);

const slackError = (error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): SandboxResponse =>
  jsonResponse(200, { ok: false, error, ...extra }, headers);

const truthy = (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 'true';

// --- tokens ---

const newBotToken = (): string => `xoxe.xoxb-1-${randomB64url(72)}`;
const newUserToken = (): string => `xoxe.xoxp-1-${randomB64url(72)}`;
const newRefreshToken = (): string => `xoxe-1-${randomB64url(72)}`;

interface IssuedCredential {
  access: string;
  refresh: string;
}

function issueCredential(store: SandboxStore, grant: GrantRecord): IssuedCredential {
  const access = grant.kind === 'user' ? newUserToken() : newBotToken();
  const refresh = newRefreshToken();
  store.issueToken(grant, 'access', access, SLACK_ACCESS_TTL_SECONDS);
  store.issueToken(grant, 'refresh', refresh, undefined);
  return { access, refresh };
}

const tokenRequestSchema = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const postMessageSchema = z
  .object({
    channel: z.string().optional(),
    text: z.string().optional(),
    blocks: z.union([z.string(), z.array(z.unknown())]).optional(),
    attachments: z.union([z.string(), z.array(z.unknown())]).optional(),
    thread_ts: z.string().optional(),
  })
  .loose();

const createChannelSchema = z
  .object({ name: z.string().optional(), is_private: z.union([z.boolean(), z.string()]).optional() })
  .loose();

const usersInfoSchema = z.object({ user: z.string().optional() }).loose();

const listSchema = z
  .object({
    cursor: z.string().optional(),
    limit: z.union([z.string(), z.number()]).optional(),
    types: z.string().optional(),
    exclude_archived: z.union([z.boolean(), z.string(), z.number()]).optional(),
  })
  .loose();

const revokeSchema = z.object({ test: z.union([z.boolean(), z.string(), z.number()]).optional() }).loose();

interface SlackAuth {
  grant: GrantRecord;
  key: string;
  team: ReturnType<typeof slackTeam>;
  /** The user the token acts as: the bot user or the installing user. */
  actor: SlackUser;
}

type MethodHandler = (auth: SlackAuth, params: Record<string, unknown>) => SandboxResponse;

export function createSlack(store: SandboxStore, data: SyncData, events?: SlackEvents): ProviderModule {
  const client = SANDBOX_CLIENTS.slack;
  let tsCounter = 0;

  const spec: AuthorizeSpec = {
    provider: 'slack',
    providerName: 'Slack',
    scopeSeparator: ',',
    userScopes: true,
    requireResponseType: false,
    accountLabel: 'Workspace (team id) to install into',
    defaultAccount: (params) => params.team ?? SANDBOX_DEFAULT_ACCOUNTS.slack,
    parseAccount: (raw) => {
      const id = raw.toUpperCase();
      return /^T[A-Z0-9]{2,20}$/.test(id)
        ? { account: id }
        : { problem: 'A Slack team id is a T followed by letters and digits, e.g. T0SANDBOX1.' };
    },
    problemMode: 'page',
    invalidClient: (clientId) => ({
      error: 'invalid_client_id',
      description: clientId ? `Invalid client_id parameter: ${clientId}` : 'Missing client_id parameter',
    }),
    invalidRedirect: (uri) => ({
      error: 'bad_redirect_uri',
      description: `redirect_uri did not match any configured URIs. Passed URI: ${uri ?? '(none)'}`,
    }),
    problem: (kind, detail) =>
      kind === 'scope'
        ? { error: 'invalid_scope', description: 'Invalid permissions requested: neither scope nor user_scope was given.' }
        : { error: 'invalid_request', description: detail || `Invalid ${kind}` },
    offline: () => true,
    newCode: () => `${randomDigits(13)}.${randomDigits(13)}.${randomHex(32)}`,
    denyParams: () => ({ error: 'access_denied' }),
  };

  // --- oauth.v2.access ---

  function tokenEndpoint(request: SandboxRequest): SandboxResponse {
    const params = tokenRequestSchema.parse(stringParams(requestParams(request, { json: true })));
    const credentials = clientCredentials(request.headers, stringParams(params));
    if (credentials.clientId !== client.clientId) return slackError('invalid_client_id');
    if (credentials.clientSecret !== client.clientSecret) return slackError('bad_client_secret');

    const grantType = params.grant_type ?? 'authorization_code';
    if (grantType === 'authorization_code') return exchangeCode(params);
    if (grantType === 'refresh_token') return refresh(params.refresh_token);
    return slackError('invalid_grant_type');
  }

  function exchangeCode(params: z.infer<typeof tokenRequestSchema>): SandboxResponse {
    const check = checkCode(store, 'slack', client.clientId, {
      code: params.code,
      redirectUri: params.redirect_uri,
      codeVerifier: params.code_verifier,
    });
    if (!check.ok) {
      if (check.reason === 'redirect_mismatch') return slackError('bad_redirect_uri');
      if (check.reason === 'missing_verifier' || check.reason === 'bad_verifier') return slackError('invalid_code_verifier');
      return slackError('invalid_code');
    }
    store.markCodeUsed(check.key);
    const { code } = check;
    const team = slackTeam(code.account);
    const common = { clientId: code.clientId, account: code.account, offline: true };
    const body: Record<string, unknown> = { app_id: team.appId };
    if (code.scopes.length > 0) {
      const grant = store.createGrant({ ...common, provider: 'slack', kind: 'bot', scopes: code.scopes });
      const issued = issueCredential(store, grant);
      Object.assign(body, {
        access_token: issued.access,
        token_type: 'bot',
        scope: code.scopes.join(','),
        bot_user_id: team.bot.id,
        expires_in: SLACK_ACCESS_TTL_SECONDS,
        refresh_token: issued.refresh,
      });
    }
    let authedUser: Record<string, unknown> = { id: team.admin.id };
    if (code.userScopes.length > 0) {
      const grant = store.createGrant({ ...common, provider: 'slack', kind: 'user', scopes: code.userScopes });
      const issued = issueCredential(store, grant);
      authedUser = {
        id: team.admin.id,
        scope: code.userScopes.join(','),
        access_token: issued.access,
        token_type: 'user',
        expires_in: SLACK_ACCESS_TTL_SECONDS,
        refresh_token: issued.refresh,
      };
    }
    Object.assign(body, {
      authed_user: authedUser,
      team: { id: team.id, name: team.name },
      enterprise: null,
      is_enterprise_install: false,
    });
    return ok(body);
  }

  function refresh(refreshToken: string | undefined): SandboxResponse {
    if (!refreshToken) return slackError('invalid_refresh_token');
    const found = store.lookupToken('slack', refreshToken);
    if (found.status !== 'active' || found.token.kind !== 'refresh' || found.grant.clientId !== client.clientId) {
      return slackError('invalid_refresh_token');
    }
    // Rotation: the used refresh token is revoked and a new pair is issued for the same credential.
    store.revokeToken(found.key);
    const grant = found.grant;
    const team = slackTeam(grant.account);
    const issued = issueCredential(store, grant);
    return ok({
      app_id: team.appId,
      authed_user: { id: team.admin.id },
      scope: grant.scopes.join(','),
      token_type: grant.kind === 'user' ? 'user' : 'bot',
      access_token: issued.access,
      ...(grant.kind === 'bot' ? { bot_user_id: team.bot.id } : {}),
      expires_in: SLACK_ACCESS_TTL_SECONDS,
      refresh_token: issued.refresh,
      team: { id: team.id, name: team.name },
      enterprise: null,
      is_enterprise_install: false,
    });
  }

  // --- Web API ---

  function authenticate(request: SandboxRequest, params: Record<string, unknown>): SlackAuth | SandboxResponse {
    const raw = bearerToken(request.headers) ?? (typeof params.token === 'string' ? params.token : undefined);
    if (!raw) return slackError('not_authed');
    const found = store.lookupToken('slack', raw);
    if (found.status === 'unknown' || found.token.kind !== 'access') return slackError('invalid_auth');
    if (found.status === 'revoked') return slackError('token_revoked');
    if (found.status === 'expired') return slackError('token_expired');
    const team = slackTeam(found.grant.account);
    return { grant: found.grant, key: found.key, team, actor: found.grant.kind === 'bot' ? team.bot : team.admin };
  }

  function missingScope(auth: SlackAuth, anyOf: string[]): SandboxResponse | undefined {
    if (anyOf.some((scope) => auth.grant.scopes.includes(scope))) return undefined;
    return slackError(
      'missing_scope',
      { needed: anyOf.join(','), provided: auth.grant.scopes.join(',') },
      slackHeaders(auth.grant.scopes, anyOf),
    );
  }

  /** Every channel of the team (archived ones too), as stored. */
  function channels(teamId: string): Array<Record<string, unknown>> {
    return data.list('channels', teamId).map((item) => item.value);
  }

  function findUser(teamId: string, id: string | undefined): Record<string, unknown> | undefined {
    return id === undefined ? undefined : data.get('users', teamId, id)?.value;
  }

  /** The list's page size, or undefined when `limit` is not a number. */
  function listLimit(raw: unknown): number | undefined {
    if (raw === undefined || raw === '' || raw === 0 || raw === '0') return SLACK_LIST_LIMITS.default;
    return pageSize(String(raw), SLACK_LIST_LIMITS);
  }

  function readCursor(raw: string | undefined, kind: 'user' | 'channel'): { after: string | undefined } | 'invalid' {
    if (raw === undefined || raw === '') return { after: undefined };
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw)) return 'invalid';
    const decoded = Buffer.from(raw, 'base64').toString('utf8');
    const match = new RegExp(`^${kind}:([A-Z0-9]{2,30})$`).exec(decoded);
    return match?.[1] ? { after: match[1] } : 'invalid';
  }

  /** One page of `items` (sorted by id) after `after`. */
  function page<T extends { id?: unknown }>(items: T[], after: string | undefined, limit: number, kind: 'user' | 'channel') {
    const sorted = [...items].sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const start = after === undefined ? 0 : sorted.findIndex((item) => String(item.id) > after);
    const from = start < 0 ? sorted.length : start;
    const slice = sorted.slice(from, from + limit);
    const last = slice[slice.length - 1];
    const more = from + limit < sorted.length && last !== undefined;
    // Slack's cursors are base64 of `<kind>:<last id>`.
    return { slice, nextCursor: more ? Buffer.from(`${kind}:${String(last.id)}`, 'utf8').toString('base64') : '' };
  }

  function nextTs(): string {
    tsCounter = (tsCounter + 1) % 1_000_000;
    return `${epochSeconds(store.now())}.${String(tsCounter).padStart(6, '0')}`;
  }

  const methods: Record<string, MethodHandler> = {
    'auth.test': (auth) =>
      ok(
        {
          url: `https://${auth.team.domain}.slack.com/`,
          team: auth.team.name,
          user: auth.actor.name,
          team_id: auth.team.id,
          user_id: auth.actor.id,
          ...(auth.actor.botId ? { bot_id: auth.actor.botId } : {}),
          is_enterprise_install: false,
        },
        slackHeaders(auth.grant.scopes),
      ),

    'auth.revoke': (auth, params) => {
      const parsed = revokeSchema.safeParse(params);
      if (parsed.success && truthy(parsed.data.test)) return ok({ revoked: false });
      // The credential (this access token and its refresh tokens) is gone.
      store.revokeGrant(auth.grant.id);
      return ok({ revoked: true });
    },

    'chat.postMessage': (auth, params) => {
      const denied = missingScope(auth, ['chat:write']);
      if (denied) return denied;
      const parsed = postMessageSchema.safeParse(params);
      if (!parsed.success) return slackError('invalid_arguments', { response_metadata: { messages: [z.prettifyError(parsed.error)] } });
      const input = parsed.data;
      let blocks: unknown;
      if (input.blocks !== undefined) {
        try {
          blocks = typeof input.blocks === 'string' ? (JSON.parse(input.blocks) as unknown) : input.blocks;
        } catch {
          return slackError('invalid_blocks');
        }
        if (!Array.isArray(blocks)) return slackError('invalid_blocks');
      }
      let attachments: unknown;
      if (input.attachments !== undefined) {
        try {
          attachments = typeof input.attachments === 'string' ? (JSON.parse(input.attachments) as unknown) : input.attachments;
        } catch {
          return slackError('invalid_attachments');
        }
      }
      const target = (input.channel ?? '').replace(/^#/, '');
      if (!target) return slackError('channel_not_found');
      const user = findUser(auth.team.id, target);
      const found = user ? undefined : channels(auth.team.id).find((candidate) => candidate.id === target || candidate.name === target);
      const channel = user ? `D${stableChars(`slack-dm:${auth.team.id}:${String(user.id)}`, 10, UPPER_ALNUM)}` : typeof found?.id === 'string' ? found.id : undefined;
      if (!channel) return slackError('channel_not_found');
      if (found?.is_archived === true) return slackError('is_archived');
      const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
      const hasAttachments = Array.isArray(attachments) && attachments.length > 0;
      if (!input.text && !hasBlocks && !hasAttachments) return slackError('no_text');
      if ((input.text ?? '').length > MAX_TEXT) return slackError('msg_too_long');
      const ts = nextTs();
      store.record('slackMessages', {
        teamId: auth.team.id,
        channel,
        ts,
        ...(input.thread_ts !== undefined ? { threadTs: input.thread_ts } : {}),
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(blocks !== undefined ? { blocks } : {}),
        ...(attachments !== undefined ? { attachments } : {}),
        tokenKind: auth.grant.kind === 'user' ? 'user' : 'bot',
        user: auth.actor.id,
        at: new Date(store.now()).toISOString(),
      });
      const message: Record<string, unknown> = {
        type: 'message',
        ...(auth.actor.botId ? { subtype: 'bot_message', bot_id: auth.actor.botId, app_id: auth.team.appId } : {}),
        text: input.text ?? '',
        user: auth.actor.id,
        team: auth.team.id,
        ts,
        ...(input.thread_ts !== undefined ? { thread_ts: input.thread_ts } : {}),
        ...(blocks !== undefined ? { blocks } : {}),
        ...(attachments !== undefined ? { attachments } : {}),
      };
      events?.emit(auth.team.id, {
        ...message,
        channel,
        event_ts: ts,
        channel_type: user ? 'im' : found?.is_private === true ? 'group' : 'channel',
      });
      return ok({ channel, ts, message }, slackHeaders(auth.grant.scopes, ['chat:write']));
    },

    'conversations.create': (auth, params) => {
      const parsed = createChannelSchema.safeParse(params);
      if (!parsed.success) return slackError('invalid_arguments', { response_metadata: { messages: [z.prettifyError(parsed.error)] } });
      const isPrivate = truthy(parsed.data.is_private);
      const needed = isPrivate ? ['groups:write'] : auth.grant.kind === 'bot' ? ['channels:manage'] : ['channels:write', 'channels:manage'];
      const denied = missingScope(auth, needed);
      if (denied) return denied;
      const name = parsed.data.name ?? '';
      if (name === '') return slackError('invalid_name_required');
      if (name.length > 80) return slackError('invalid_name_maxlength');
      if (/^[-_]+$/.test(name)) return slackError('invalid_name_punctuation');
      if (/[^a-z0-9_-]/.test(name)) return slackError('invalid_name_specials');
      if (channels(auth.team.id).some((channel) => channel.name === name)) return slackError('name_taken');
      const created = addDataItem(data, 'channels', auth.team.id, { name, is_private: isPrivate, creator: auth.actor.id });
      return ok({ channel: slackChannelObject(created.value) }, slackHeaders(auth.grant.scopes, needed));
    },

    'users.info': (auth, params) => {
      const denied = missingScope(auth, ['users:read']);
      if (denied) return denied;
      const parsed = usersInfoSchema.safeParse(params);
      const id = parsed.success ? parsed.data.user : undefined;
      const user = findUser(auth.team.id, id);
      if (!user) return slackError('user_not_found');
      return ok({ user }, slackHeaders(auth.grant.scopes, ['users:read']));
    },

    'users.list': (auth, params) => {
      const denied = missingScope(auth, ['users:read']);
      if (denied) return denied;
      const input = listSchema.safeParse(params);
      if (!input.success) return slackError('invalid_arguments');
      const limit = listLimit(input.data.limit);
      if (limit === undefined) return slackError('invalid_limit');
      const cursor = readCursor(input.data.cursor, 'user');
      if (cursor === 'invalid') return slackError('invalid_cursor');
      const users = data.list('users', auth.team.id).map((item) => item.value);
      const { slice, nextCursor } = page(users, cursor.after, limit, 'user');
      return ok(
        { members: slice, cache_ts: epochSeconds(store.now()), response_metadata: { next_cursor: nextCursor } },
        slackHeaders(auth.grant.scopes, ['users:read']),
      );
    },

    'conversations.list': (auth, params) => {
      const input = listSchema.safeParse(params);
      if (!input.success) return slackError('invalid_arguments');
      const types = (input.data.types ?? 'public_channel').split(',').map((type) => type.trim()).filter((type) => type !== '');
      const known = types.filter((type): type is (typeof CONVERSATION_TYPES)[number] => (CONVERSATION_TYPES as readonly string[]).includes(type));
      if (known.length !== types.length || known.length === 0) return slackError('invalid_types');
      // The token sees the types it has a read scope for; none at all is missing_scope.
      const needed = [...new Set(known.flatMap((type) => TYPE_SCOPES[type]))];
      const denied = missingScope(auth, needed);
      if (denied) return denied;
      const visible = new Set(known.filter((type) => TYPE_SCOPES[type].some((scope) => auth.grant.scopes.includes(scope))));
      const limit = listLimit(input.data.limit);
      if (limit === undefined) return slackError('invalid_limit');
      const cursor = readCursor(input.data.cursor, 'channel');
      if (cursor === 'invalid') return slackError('invalid_cursor');
      const excludeArchived = truthy(input.data.exclude_archived);
      const listed = channels(auth.team.id).filter(
        (channel) => visible.has(channel.is_private === true ? 'private_channel' : 'public_channel') && !(excludeArchived && channel.is_archived === true),
      );
      const { slice, nextCursor } = page(listed, cursor.after, limit, 'channel');
      return ok({ channels: slice.map(slackChannelObject), response_metadata: { next_cursor: nextCursor } }, slackHeaders(auth.grant.scopes, needed));
    },
  };

  function handle(request: SandboxRequest): SandboxResponse {
    if (request.path === '/slack/oauth/v2/authorize' && (request.method === 'GET' || request.method === 'POST')) {
      return handleAuthorize(store, spec, request);
    }
    const api = /^\/slack\/api\/([A-Za-z0-9_.]+)$/.exec(request.path);
    if (!api?.[1] || (request.method !== 'GET' && request.method !== 'POST')) return notFound();
    const method = api[1];
    if (method === 'oauth.v2.access') return tokenEndpoint(request);
    const handler = methods[method];
    if (!handler) return jsonResponse(404, { ok: false, error: 'unknown_method', req_method: method });
    const params = requestParams(request, { json: true });
    const auth = authenticate(request, params);
    if ('status' in auth) return auth;
    return handler(auth, params);
  }

  function fault(request: SandboxRequest, status: 429 | 500 | 502 | 503, retryAfterSeconds: number | undefined): SandboxResponse {
    const retry = retryAfterHeader(status === 429 ? (retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) : retryAfterSeconds);
    if (!request.path.startsWith('/slack/api/')) {
      return htmlResponse(status, renderErrorPage({ providerName: 'Slack', title: `HTTP ${status}`, message: 'Slack is having trouble right now.' }), retry);
    }
    const error = { 429: 'ratelimited', 500: 'internal_error', 502: 'fatal_error', 503: 'service_unavailable' }[status];
    return jsonResponse(status, { ok: false, error }, retry);
  }

  return { id: 'slack', handle, fault };
}

function notFound(): SandboxResponse {
  return htmlResponse(404, renderErrorPage({ providerName: 'Slack', title: 'Not Found', message: 'There is no such page on Slack.' }));
}
