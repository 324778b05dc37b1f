import * as z from 'zod';
import { checkCode, handleAuthorize, parseEmailAccount, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { renderErrorPage } from './consent';
import { DEFAULT_RETRY_AFTER_SECONDS, type FaultStatus } from './faults';
import {
  bearerToken,
  clientCredentials,
  htmlResponse,
  jsonResponse,
  parseBody,
  requestParams,
  stringParams,
  type SandboxRequest,
  type SandboxResponse,
} from './http';
import { BASE32HEX, epochSeconds, jwtLooking, randomB64url, randomChars, randomDigits, randomHex, sha256, stableChars, stableDigits, LOWER_HEX } from './ids';
import { apiError } from './google-api';
import type { GooglePush } from './google-push';
import { createGoogleSync } from './google-sync';
import type { SyncData } from './data';
import { addDataItem } from './data-ops';
import { parseAddressList, parseRfc2822 } from './mail';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Google: the OAuth 2.0 server (no refresh-token rotation), OpenID userinfo,
 * Calendar `events.insert` and Gmail `messages.send`, with Google's two error
 * shapes: OAuth `{error, error_description}` and API `{error:{code,message,errors,status}}`.
 */

export const GOOGLE_ACCESS_TTL_SECONDS = 3599;

export const GOOGLE_SCOPES = {
  calendar: ['https://www.googleapis.com/auth/calendar', 'https://www.googleapis.com/auth/calendar.events'],
  gmailSend: [
    'https://www.googleapis.com/auth/gmail.send',
    'https://www.googleapis.com/auth/gmail.compose',
    'https://www.googleapis.com/auth/gmail.modify',
    'https://mail.google.com/',
  ],
  userinfo: ['openid', 'email', 'profile', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile'],
} as const;

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

export function googleUser(email: string) {
  const [local = '', domain = ''] = email.split('@');
  const words = local.split(/[._+-]+/).filter((word) => word !== '').map(capitalize);
  const givenName = words[0] ?? 'Sandbox';
  const familyName = words.length > 1 ? words.slice(1).join(' ') : 'Sandbox';
  const consumer = domain === 'gmail.com' || domain === 'googlemail.com';
  return {
    sub: `1${stableDigits(`google-sub:${email}`, 20)}`,
    email,
    name: `${givenName} ${familyName}`,
    givenName,
    familyName,
    ...(consumer ? {} : { hd: domain }),
  };
}

// --- error shapes ---

const oauthError = (status: number, error: string, description: string): SandboxResponse =>
  jsonResponse(status, { error, error_description: description });

const INVALID_CREDENTIALS =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

// --- request schemas ---

const tokenRequestSchema = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const eventTimeSchema = z.object({ dateTime: z.string().optional(), date: z.string().optional(), timeZone: z.string().optional() }).loose();

const eventSchema = z
  .object({
    id: z.string().optional(),
    summary: z.string().optional(),
    description: z.string().optional(),
    location: z.string().optional(),
    start: eventTimeSchema.optional(),
    end: eventTimeSchema.optional(),
    attendees: z.array(z.object({ email: z.string() }).loose()).optional(),
  })
  .loose();

const sendSchema = z.object({ raw: z.string().optional(), threadId: z.string().optional() }).loose();

type EventTime = z.infer<typeof eventTimeSchema>;

/** Epoch ms of an event time, or a problem. Offsets-less date-times need a time zone, as in Calendar. */
function eventInstant(time: EventTime | undefined, which: 'start' | 'end'): number | { reason: string; message: string } {
  if (!time || (time.dateTime === undefined && time.date === undefined)) return { reason: 'required', message: `Missing ${which} time.` };
  if (time.dateTime !== undefined) {
    const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(time.dateTime);
    if (!hasOffset && !time.timeZone) return { reason: 'required', message: `Missing time zone definition for ${which} time.` };
    const ms = Date.parse(hasOffset ? time.dateTime : `${time.dateTime}Z`);
    return Number.isNaN(ms) ? { reason: 'invalid', message: `Invalid ${which} time.` } : ms;
  }
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(time.date ?? '') ? Date.parse(`${time.date}T00:00:00Z`) : Number.NaN;
  return Number.isNaN(ms) ? { reason: 'invalid', message: `Invalid ${which} time.` } : ms;
}

export function createGoogle(store: SandboxStore, push?: GooglePush, data?: SyncData): ProviderModule {
  const client = SANDBOX_CLIENTS.google;
  const sync = data ? createGoogleSync(data) : undefined;
  const kid = stableChars('google-kid', 40, LOWER_HEX);

  const spec: AuthorizeSpec = {
    provider: 'google',
    providerName: 'Google',
    scopeSeparator: ' ',
    userScopes: false,
    requireResponseType: true,
    accountLabel: 'Google account (email) to sign in as',
    defaultAccount: (params) => params.login_hint ?? SANDBOX_DEFAULT_ACCOUNTS.google,
    parseAccount: (raw) => parseEmailAccount(raw, 'Enter an email address, e.g. admin@sandbox-google.test.'),
    problemMode: 'page',
    invalidClient: (clientId) => ({
      error: 'invalid_client',
      description: clientId ? `The OAuth client was not found. (client_id: ${clientId})` : 'Missing required parameter: client_id',
    }),
    invalidRedirect: (uri) => ({
      error: uri ? 'redirect_uri_mismatch' : 'invalid_request',
      description: uri ? `Invalid redirect_uri: ${uri}` : 'Missing required parameter: redirect_uri',
    }),
    problem: (kind, detail) => {
      if (kind === 'response_type') return { error: 'unsupported_response_type', description: `Invalid response_type: ${detail}` };
      if (kind === 'scope') return { error: 'invalid_request', description: 'Missing required parameter: scope' };
      return { error: 'invalid_request', description: detail };
    },
    offline: (params) => params.access_type === 'offline',
    grantedScopes: (requested, account, clientId, params) => {
      if (params.include_granted_scopes !== 'true') return requested;
      const previous = store
        .grants('google')
        .filter((grant) => grant.account === account && grant.clientId === clientId && grant.revokedAt === undefined)
        .flatMap((grant) => grant.scopes);
      return [...new Set([...previous, ...requested])];
    },
    newCode: () => `4/0A${randomB64url(60)}`,
    successParams: (code) => ({ scope: code.scopes.join(' '), authuser: '0', prompt: 'consent' }),
    denyParams: () => ({ error: 'access_denied' }),
  };

  function idToken(grant: GrantRecord, accessToken: string): string {
    const user = googleUser(grant.account);
    const iat = epochSeconds(store.now());
    return jwtLooking(
      { alg: 'RS256', kid, typ: 'JWT' },
      {
        iss: 'https://accounts.google.com',
        azp: grant.clientId,
        aud: grant.clientId,
        sub: user.sub,
        ...(user.hd ? { hd: user.hd } : {}),
        email: user.email,
        email_verified: true,
        at_hash: atHash(accessToken),
        ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
        name: user.name,
        given_name: user.givenName,
        family_name: user.familyName,
        iat,
        exp: iat + 3600,
      },
    );
  }

  function issueAccess(grant: GrantRecord): Record<string, unknown> {
    const access = `ya29.${randomB64url(120)}`;
    store.issueToken(grant, 'access', access, GOOGLE_ACCESS_TTL_SECONDS);
    return {
      access_token: access,
      expires_in: GOOGLE_ACCESS_TTL_SECONDS,
      scope: grant.scopes.join(' '),
      token_type: 'Bearer',
      ...(grant.scopes.includes('openid') ? { id_token: idToken(grant, access) } : {}),
    };
  }

  // --- /oauth2/token ---

  function token(request: SandboxRequest): SandboxResponse {
    const params = tokenRequestSchema.parse(stringParams(requestParams(request, { json: true })));
    const credentials = clientCredentials(request.headers, stringParams(params));
    if (!credentials.clientId) return oauthError(400, 'invalid_request', 'Could not determine client ID from request.');
    if (credentials.clientId !== client.clientId) return oauthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (credentials.clientSecret !== client.clientSecret) return oauthError(401, 'invalid_client', 'Unauthorized');
    if (!params.grant_type) return oauthError(400, 'invalid_request', 'Missing required parameter: grant_type');

    if (params.grant_type === 'authorization_code') {
      if (!params.code) return oauthError(400, 'invalid_request', 'Missing required parameter: code');
      const check = checkCode(store, 'google', client.clientId, {
        code: params.code,
        redirectUri: params.redirect_uri,
        codeVerifier: params.code_verifier,
      });
      if (!check.ok) {
        if (check.reason === 'redirect_mismatch') return oauthError(400, 'redirect_uri_mismatch', 'Bad Request');
        return oauthError(400, 'invalid_grant', 'Bad Request');
      }
      store.markCodeUsed(check.key);
      const code = check.code;
      const grant = store.createGrant({
        provider: 'google',
        clientId: code.clientId,
        account: code.account,
        kind: 'oauth',
        scopes: code.scopes,
        offline: code.offline,
        ...(code.nonce !== undefined ? { nonce: code.nonce } : {}),
      });
      const body = issueAccess(grant);
      if (code.offline) {
        const refresh = `1//0${randomB64url(75)}`;
        store.issueToken(grant, 'refresh', refresh, undefined);
        body.refresh_token = refresh;
      }
      return jsonResponse(200, body);
    }

    if (params.grant_type === 'refresh_token') {
      if (!params.refresh_token) return oauthError(400, 'invalid_request', 'Missing required parameter: refresh_token');
      const found = store.lookupToken('google', params.refresh_token);
      if (found.status !== 'active' || found.token.kind !== 'refresh' || found.grant.clientId !== client.clientId) {
        return oauthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      }
      // No rotation: the same refresh token keeps working and none comes back.
      return jsonResponse(200, issueAccess(found.grant));
    }
    return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${params.grant_type}`);
  }

  // --- /oauth2/revoke ---

  function revoke(request: SandboxRequest): SandboxResponse {
    const params = stringParams(requestParams(request, { json: false }));
    const raw = z.string().min(1).safeParse(params.token);
    if (!raw.success) return oauthError(400, 'invalid_request', 'Missing required parameter: token');
    const found = store.lookupToken('google', raw.data);
    if (found.status !== 'active') return oauthError(400, 'invalid_token', 'Token expired or revoked');
    // Google keeps one authorization per user and client: revoking any of its tokens revokes every consent the user gave the client.
    const { account, clientId } = found.grant;
    for (const grant of store.grants('google')) if (grant.account === account && grant.clientId === clientId) store.revokeGrant(grant.id);
    return jsonResponse(200, {});
  }

  // --- APIs ---

  function authenticate(request: SandboxRequest, anyOf: readonly string[]): GrantRecord | SandboxResponse {
    const raw = bearerToken(request.headers);
    const challenge = { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' };
    if (!raw) {
      return apiError(401, 'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.', 'required', {
        detail: 'Login Required.',
        location: 'Authorization',
        headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
      });
    }
    const found = store.lookupToken('google', raw);
    if (found.status !== 'active' || found.token.kind !== 'access') {
      return apiError(401, INVALID_CREDENTIALS, 'authError', { detail: 'Invalid Credentials', location: 'Authorization', headers: challenge });
    }
    const scopes = found.token.scopes ?? found.grant.scopes;
    if (!anyOf.some((scope) => scopes.includes(scope))) {
      return apiError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', {
        detail: 'Insufficient Permission',
        headers: { 'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${anyOf.join(' ')}"` },
      });
    }
    return found.grant;
  }

  function jsonBody(request: SandboxRequest): { ok: true; value: unknown } | { ok: false; response: SandboxResponse } {
    const body = parseBody(request);
    if (body.kind === 'json') return { ok: true, value: body.value };
    if (body.kind === 'empty') return { ok: true, value: {} };
    return { ok: false, response: apiError(400, 'Parse Error', 'parseError') };
  }

  function userinfo(request: SandboxRequest): SandboxResponse {
    const grant = authenticate(request, GOOGLE_SCOPES.userinfo);
    if ('status' in grant) return grant;
    const user = googleUser(grant.account);
    return jsonResponse(200, {
      sub: user.sub,
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      email: user.email,
      email_verified: true,
      ...(user.hd ? { hd: user.hd } : {}),
    });
  }

  function insertEvent(request: SandboxRequest, calendarId: string): SandboxResponse {
    const grant = authenticate(request, GOOGLE_SCOPES.calendar);
    if ('status' in grant) return grant;
    const email = grant.account;
    if (calendarId !== 'primary' && calendarId.toLowerCase() !== email) return apiError(404, 'Not Found', 'notFound');
    const body = jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = eventSchema.safeParse(body.value);
    if (!parsed.success) return apiError(400, 'Invalid value', 'invalid', { detail: z.prettifyError(parsed.error) });
    const input = parsed.data;
    const start = eventInstant(input.start, 'start');
    if (typeof start !== 'number') return apiError(400, start.message, start.reason);
    const end = eventInstant(input.end, 'end');
    if (typeof end !== 'number') return apiError(400, end.message, end.reason);
    if (end < start) return apiError(400, 'The specified time range is empty.', 'timeRangeEmpty', { domain: 'calendar' });
    if (input.id !== undefined && !/^[a-v0-9]{5,1024}$/.test(input.id)) return apiError(400, 'Invalid resource id value.', 'invalid');
    const taken = (id: string) =>
      data?.get('calendar', email, id) !== undefined ||
      store.records.calendarEvents.some((event) => event.provider === 'google' && event.account === email && event.id === id);
    if (input.id !== undefined && taken(input.id)) return apiError(409, 'The requested identifier already exists.', 'duplicate');
    const id = input.id ?? randomChars(26, BASE32HEX);
    const now = new Date(store.now()).toISOString();
    const event: Record<string, unknown> = {
      ...input,
      kind: 'calendar#event',
      etag: `"${randomDigits(16)}"`,
      id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${email}`).toString('base64url')}`,
      created: now,
      updated: now,
      creator: { email, self: true },
      organizer: { email, self: true },
      iCalUID: `${id}@google.com`,
      sequence: 0,
      ...(input.attendees ? { attendees: input.attendees.map((attendee) => ({ ...attendee, responseStatus: 'needsAction' })) } : {}),
      reminders: { useDefault: true },
      eventType: 'default',
    };
    store.record('calendarEvents', { provider: 'google', account: email, calendarId, id, event, at: now });
    // Part of the calendar the sync reads (events.list, sync tokens).
    data?.add('calendar', email, id, () => event);
    return jsonResponse(200, event, { 'content-type': 'application/json; charset=UTF-8' });
  }

  function sendMessage(request: SandboxRequest, userId: string): SandboxResponse {
    const grant = authenticate(request, GOOGLE_SCOPES.gmailSend);
    if ('status' in grant) return grant;
    if (userId !== 'me' && userId.toLowerCase() !== grant.account) {
      return apiError(403, `Delegation denied for ${grant.account}`, 'forbidden');
    }
    const body = jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = sendSchema.safeParse(body.value);
    if (!parsed.success) return apiError(400, 'Invalid JSON payload received.', 'invalidArgument');
    const raw = parsed.data.raw;
    if (!raw) {
      return apiError(400, "'raw' RFC822 payload message string or uploading message via /upload/* URL required", 'invalidArgument');
    }
    if (!/^[A-Za-z0-9+/_\-=\s]*$/.test(raw)) return apiError(400, 'Invalid value for ByteString', 'invalidArgument');
    const decoded = Buffer.from(raw, 'base64url').toString('utf8');
    const mail = parseRfc2822(decoded);
    const to = parseAddressList(mail.headers.to);
    if (to.length === 0) return apiError(400, 'Invalid To header', 'invalidArgument');
    if (mail.headers.subject === undefined) return apiError(400, 'Missing Subject header', 'invalidArgument');
    const id = randomHex(8);
    const threadId = parsed.data.threadId ?? id;
    store.record('emails', {
      id,
      provider: 'google',
      account: grant.account,
      from: parseAddressList(mail.headers.from)[0] ?? grant.account,
      to,
      cc: parseAddressList(mail.headers.cc),
      bcc: parseAddressList(mail.headers.bcc),
      subject: mail.headers.subject,
      contentType: mail.contentType,
      body: mail.body,
      headers: mail.headers,
      raw: decoded,
      threadId,
      at: new Date(store.now()).toISOString(),
    });
    // The sent message is in the mailbox too (history.list reports it as added).
    if (data && !data.get('gmail', grant.account, id)) {
      addDataItem(data, 'gmail', grant.account, {
        id,
        threadId,
        labelIds: ['SENT'],
        subject: mail.headers.subject,
        from: mail.headers.from ?? grant.account,
        to: mail.headers.to ?? '',
        text: mail.body,
      });
    }
    return jsonResponse(200, { id, threadId, labelIds: ['SENT'] }, { 'content-type': 'application/json; charset=UTF-8' });
  }

  function handle(request: SandboxRequest): SandboxResponse | Promise<SandboxResponse> {
    const { method, path } = request;
    const post = method === 'POST';
    if (path === '/accounts/o/oauth2/v2/auth' && (method === 'GET' || post)) return handleAuthorize(store, spec, request);
    if (path === '/oauth2/token' && post) return token(request);
    if (path === '/oauth2/revoke' && (method === 'GET' || post)) return revoke(request);
    if (path === '/openidconnect/v1/userinfo' && (method === 'GET' || post)) return userinfo(request);
    const calendar = /^\/www\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(path);
    if (calendar?.[1] && post) return insertEvent(request, safeDecode(calendar[1]));
    const gmail = /^\/gmail\/gmail\/v1\/users\/([^/]+)\/messages\/send$/.exec(path);
    if (gmail?.[1] && post) return sendMessage(request, safeDecode(gmail[1]));
    const synced = sync?.handle(request, { authenticate, jsonBody });
    if (synced) return synced;
    const pushed = push?.handle(request, { authenticate, jsonBody });
    if (pushed) return pushed;
    return htmlResponse(
      404,
      renderErrorPage({
        providerName: 'Google',
        title: 'Error 404 (Not Found)',
        message: `The requested URL ${path} was not found on this server. That’s all we know.`,
      }),
    );
  }

  function fault(request: SandboxRequest, status: FaultStatus, retryAfterSeconds: number | undefined): SandboxResponse {
    const retry = retryAfterHeader(status === 429 ? (retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) : retryAfterSeconds);
    if (request.path.startsWith('/accounts/')) {
      return htmlResponse(status, renderErrorPage({ providerName: 'Google', title: `Error ${status}`, message: 'That’s an error. Please try again later.' }), retry);
    }
    if (request.path.startsWith('/oauth2/')) {
      const body =
        status === 429
          ? { error: 'rate_limit_exceeded', error_description: 'Rate Limit Exceeded' }
          : status === 503
            ? { error: 'temporarily_unavailable', error_description: 'The service is currently unavailable.' }
            : { error: 'internal_failure', error_description: 'Backend Error' };
      return jsonResponse(status, body, retry);
    }
    if (status === 429) {
      return apiError(429, 'Rate Limit Exceeded', 'rateLimitExceeded', { domain: 'usageLimits', headers: retry });
    }
    const message = status === 503 ? 'The service is currently unavailable.' : status === 502 ? 'Bad Gateway' : 'Backend Error';
    return apiError(status, message, 'backendError', { headers: retry });
  }

  return { id: 'google', handle, fault };
}

/** OpenID Connect `at_hash`: the left half of the access token's SHA-256, base64url. */
function atHash(accessToken: string): string {
  return sha256(accessToken).subarray(0, 16).toString('base64url');
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
