import * as z from 'zod';
import { checkCode, handleAuthorize, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
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
import { epochSeconds, randomB64url, randomChars, randomDigits, randomHex, stableChars, UPPER_ALNUM } from './ids';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { GrantRecord, SandboxStore, SlackChannelRecord } from './state';

/**
 * Slack: OAuth v2 with token rotation and the Web API methods the app uses.
 * Every answer is HTTP 200 with `ok` (errors `{ok:false,error}`), except
 * rate limiting (429 + Retry-After) and unknown methods (404).
 */

export const SLACK_ACCESS_TTL_SECONDS = 43_200;
const MAX_TEXT = 40_000;

// --- identities derived from the team id ---

interface SlackUser {
  id: string;
  name: string;
  realName: string;
  email?: string;
  isBot: boolean;
  isAdmin: boolean;
  botId?: string;
}

export function slackTeam(teamId: string) {
  const name = teamId === SANDBOX_DEFAULT_ACCOUNTS.slack ? 'Sandbox Workspace' : `Sandbox Workspace ${teamId}`;
  const domain = `sandbox-${teamId.toLowerCase()}`;
  const appId = `A${stableChars(`slack-app:${SANDBOX_CLIENTS.slack.clientId}`, 10, UPPER_ALNUM)}`;
  const user = (key: string, name: string, realName: string, isAdmin: boolean): SlackUser => ({
    id: `U${stableChars(`slack-user:${teamId}:${key}`, 10, UPPER_ALNUM)}`,
    name,
    realName,
    email: `${name}@${domain}.sandbox-slack.test`,
    isBot: false,
    isAdmin,
  });
  const admin = user('admin', 'sandbox.admin', 'Sandbox Admin', true);
  const members = [user('member-1', 'jane.doe', 'Jane Doe', false), user('member-2', 'john.roe', 'John Roe', false)];
  const bot: SlackUser = {
    id: `U${stableChars(`slack-bot-user:${teamId}:${appId}`, 10, UPPER_ALNUM)}`,
    name: 'sandbox-hr-bot',
    realName: 'Sandbox HR Bot',
    isBot: true,
    isAdmin: false,
    botId: `B${stableChars(`slack-bot:${teamId}:${appId}`, 10, UPPER_ALNUM)}`,
  };
  const seededChannels: SlackChannelRecord[] = ['general', 'random'].map((channel) => ({
    id: `C${stableChars(`slack-channel:${teamId}:${channel}`, 10, UPPER_ALNUM)}`,
    teamId,
    name: channel,
    isPrivate: false,
    created: 1_700_000_000,
    creator: admin.id,
  }));
  return { id: teamId, name, domain, appId, admin, bot, members, users: [admin, bot, ...members], seededChannels };
}

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

const revokeSchema = z.object({ test: z.union([z.boolean(), z.string(), z.number()]).optional() }).loose();

interface SlackAuth {
  grant: GrantRecord;
  key: string;
  team: ReturnType<typeof slackTeam>;
  /** The user the token acts as: the bot user or the installing user. */
  actor: SlackUser;
}

type MethodHandler = (auth: SlackAuth, params: Record<string, unknown>) => SandboxResponse;

export function createSlack(store: SandboxStore): ProviderModule {
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

  function channels(teamId: string): SlackChannelRecord[] {
    return [...slackTeam(teamId).seededChannels, ...store.slackChannels(teamId)];
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
      const user = auth.team.users.find((candidate) => candidate.id === target);
      const channel = user
        ? `D${stableChars(`slack-dm:${auth.team.id}:${user.id}`, 10, UPPER_ALNUM)}`
        : channels(auth.team.id).find((candidate) => candidate.id === target || candidate.name === target)?.id;
      if (!channel) return slackError('channel_not_found');
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
      const created = epochSeconds(store.now());
      const record: SlackChannelRecord = {
        id: `C${randomChars(10, UPPER_ALNUM)}`,
        teamId: auth.team.id,
        name,
        isPrivate,
        created,
        creator: auth.actor.id,
      };
      store.addSlackChannel(record);
      return ok({ channel: channelObject(record) }, slackHeaders(auth.grant.scopes, needed));
    },

    'users.info': (auth, params) => {
      const denied = missingScope(auth, ['users:read']);
      if (denied) return denied;
      const parsed = usersInfoSchema.safeParse(params);
      const id = parsed.success ? parsed.data.user : undefined;
      const user = auth.team.users.find((candidate) => candidate.id === id);
      if (!user) return slackError('user_not_found');
      return ok({ user: userObject(auth.team.id, user, store.now()) }, slackHeaders(auth.grant.scopes, ['users:read']));
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

function channelObject(channel: SlackChannelRecord): Record<string, unknown> {
  return {
    id: channel.id,
    name: channel.name,
    is_channel: true,
    is_group: false,
    is_im: false,
    created: channel.created,
    creator: channel.creator,
    is_archived: false,
    is_general: false,
    unlinked: 0,
    name_normalized: channel.name,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    pending_shared: [],
    is_pending_ext_shared: false,
    is_member: true,
    is_private: channel.isPrivate,
    is_mpim: false,
    last_read: '0000000000.000000',
    latest: null,
    unread_count: 0,
    unread_count_display: 0,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    previous_names: [],
    priority: 0,
  };
}

function userObject(teamId: string, user: SlackUser, now: number): Record<string, unknown> {
  return {
    id: user.id,
    team_id: teamId,
    name: user.name,
    deleted: false,
    real_name: user.realName,
    tz: 'Europe/London',
    tz_label: 'Greenwich Mean Time',
    tz_offset: 0,
    profile: {
      real_name: user.realName,
      display_name: user.name,
      ...(user.email ? { email: user.email } : {}),
      ...(user.botId ? { bot_id: user.botId } : {}),
      team: teamId,
    },
    is_admin: user.isAdmin,
    is_owner: user.isAdmin,
    is_bot: user.isBot,
    is_app_user: false,
    updated: epochSeconds(now),
  };
}
