import * as z from 'zod';
import { checkCode, handleAuthorize, parseEmailAccount, splitScopes, type AuthorizeSpec } from './authorize';
import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { renderErrorPage } from './consent';
import { DEFAULT_RETRY_AFTER_SECONDS, type FaultStatus } from './faults';
import {
  bearerToken,
  clientCredentials,
  emptyResponse,
  htmlResponse,
  jsonResponse,
  parseBody,
  type SandboxRequest,
  type SandboxResponse,
} from './http';
import { epochSeconds, jwtLooking, randomB64url, randomId, stableChars, stableUuid } from './ids';
import type { GraphApiContext, MicrosoftPush } from './microsoft-push';
import { createMicrosoftSync } from './microsoft-sync';
import type { SyncData } from './data';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Microsoft identity platform v2 (authorization code + PKCE, refresh tokens
 * that are replaced on every refresh while the old ones keep working, no
 * revocation endpoint) and the Microsoft Graph calls the app uses.
 */

export const MICROSOFT_ACCESS_TTL_SECONDS = 3599;
/** Refresh tokens of web apps: a 90-day inactivity window (each new one restarts it). */
export const MICROSOFT_REFRESH_TTL_SECONDS = 90 * 24 * 3600;
const GRAPH_RESOURCE = 'https://graph.microsoft.com/';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

export function microsoftUser(upn: string) {
  const [local = '', domain = ''] = upn.split('@');
  const words = local.split(/[._+-]+/).filter((word) => word !== '').map(capitalize);
  const givenName = words[0] ?? 'Sandbox';
  const surname = words.length > 1 ? words.slice(1).join(' ') : 'Sandbox';
  return {
    upn,
    domain,
    tid: stableUuid(`microsoft-tenant:${domain}`),
    oid: stableUuid(`microsoft-user:${upn}`),
    displayName: `${givenName} ${surname}`,
    givenName,
    surname,
  };
}

/** `https://graph.microsoft.com/User.Read` and `user.read` are the same scope. */
export function normalizeScope(scope: string): string {
  const lower = scope.toLowerCase();
  return lower.startsWith(GRAPH_RESOURCE) ? lower.slice(GRAPH_RESOURCE.length) : lower;
}

export const hasScope = (scopes: readonly string[], anyOf: readonly string[]): boolean => {
  const granted = new Set(scopes.map(normalizeScope));
  return anyOf.some((scope) => granted.has(normalizeScope(scope)));
};

export const MICROSOFT_SCOPES = {
  me: ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'],
  events: ['Calendars.ReadWrite'],
  sendMail: ['Mail.Send'],
  channelMessage: ['ChannelMessage.Send'],
} as const;

function tenantMatches(tenant: string, user: ReturnType<typeof microsoftUser>): boolean {
  const lower = tenant.toLowerCase();
  return lower === 'common' || lower === 'organizations' || lower === user.tid || lower === user.domain.toLowerCase();
}

// --- error shapes ---

function entraTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

const tokenRequestSchema = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  scope: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

const emailAddressSchema = z.object({ address: z.string(), name: z.string().optional() }).loose();
const recipientsSchema = z.array(z.object({ emailAddress: emailAddressSchema }).loose()).optional();
const itemBodySchema = z.object({ contentType: z.string().optional(), content: z.string().optional() }).loose();
const dateTimeZoneSchema = z.object({ dateTime: z.string(), timeZone: z.string() }).loose();

const eventSchema = z
  .object({
    subject: z.string().optional(),
    body: itemBodySchema.optional(),
    start: dateTimeZoneSchema.optional(),
    end: dateTimeZoneSchema.optional(),
    attendees: z.array(z.object({ emailAddress: emailAddressSchema, type: z.string().optional() }).loose()).optional(),
  })
  .loose();

const sendMailSchema = z
  .object({
    message: z
      .object({
        subject: z.string().optional(),
        body: itemBodySchema.optional(),
        toRecipients: recipientsSchema,
        ccRecipients: recipientsSchema,
        bccRecipients: recipientsSchema,
      })
      .loose(),
    saveToSentItems: z.union([z.boolean(), z.string()]).optional(),
  })
  .loose();

const channelMessageSchema = z.object({ body: itemBodySchema }).loose();

export function createMicrosoft(store: SandboxStore, push?: MicrosoftPush, data?: SyncData, publicUrl: () => string | undefined = () => undefined): ProviderModule {
  const client = SANDBOX_CLIENTS.microsoft;
  const sync = data ? createMicrosoftSync(data, publicUrl) : undefined;

  function entraError(request: SandboxRequest, status: number, error: string, code: number, message: string): SandboxResponse {
    return jsonResponse(status, {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${randomId()} Correlation ID: ${correlationId(request)} Timestamp: ${entraTimestamp(store.now())}`,
      error_codes: [code],
      timestamp: entraTimestamp(store.now()),
      trace_id: randomId(),
      correlation_id: correlationId(request),
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    });
  }

  function graphError(request: SandboxRequest, status: number, code: string, message: string, headers: Record<string, string> = {}, inner: Record<string, string> = {}): SandboxResponse {
    const requestId = randomId();
    const clientRequestId = request.headers['client-request-id'] ?? requestId;
    return jsonResponse(
      status,
      {
        error: {
          code,
          message,
          innerError: { ...inner, date: new Date(store.now()).toISOString().replace(/\.\d{3}Z$/, ''), 'request-id': requestId, 'client-request-id': clientRequestId },
        },
      },
      { 'request-id': requestId, 'client-request-id': clientRequestId, ...headers },
    );
  }

  function graphJson(request: SandboxRequest, status: number, body: unknown): SandboxResponse {
    const requestId = randomId();
    return jsonResponse(status, body, {
      'content-type': 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8',
      'request-id': requestId,
      'client-request-id': request.headers['client-request-id'] ?? requestId,
    });
  }

  function authorizeSpec(tenant: string): AuthorizeSpec {
    return {
      provider: 'microsoft',
      providerName: 'Microsoft',
      scopeSeparator: ' ',
      userScopes: false,
      requireResponseType: true,
      accountLabel: 'Work account (user principal name) to sign in as',
      defaultAccount: (params) => params.login_hint ?? SANDBOX_DEFAULT_ACCOUNTS.microsoft,
      parseAccount: (raw) => parseEmailAccount(raw, 'Enter a user principal name, e.g. admin@sandbox-contoso.test.'),
      accountProblem: (account) => {
        if (tenant.toLowerCase() === 'consumers') {
          return `AADSTS50020: User account '${account}' is a work or school account and cannot sign in to the 'consumers' tenant.`;
        }
        return tenantMatches(tenant, microsoftUser(account))
          ? undefined
          : `AADSTS50020: User account '${account}' from identity provider does not exist in tenant '${tenant}' and cannot access the application '${client.clientId}' in that tenant.`;
      },
      problemMode: 'redirect',
      invalidClient: (clientId) => ({
        error: 'unauthorized_client',
        description: clientId
          ? `AADSTS700016: Application with identifier '${clientId}' was not found in the directory 'Sandbox'.`
          : "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
      }),
      invalidRedirect: (uri) => ({
        error: 'invalid_request',
        description: uri
          ? `AADSTS50011: The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${client.clientId}'.`
          : "AADSTS900144: The request body must contain the following parameter: 'redirect_uri'.",
      }),
      problem: (kind, detail) => {
        if (kind === 'response_type') {
          return detail
            ? { error: 'unsupported_response_type', description: `AADSTS700054: response_type '${detail}' is not enabled for the application.` }
            : { error: 'invalid_request', description: "AADSTS900144: The request body must contain the following parameter: 'response_type'." };
        }
        if (kind === 'scope') return { error: 'invalid_request', description: "AADSTS900144: The request body must contain the following parameter: 'scope'." };
        return { error: 'invalid_request', description: `AADSTS501491: ${detail}.` };
      },
      redirectErrorParams: (problem) => ({ error_description: problem.description }),
      offline: (_params, scopes) => scopes.some((scope) => scope.toLowerCase() === 'offline_access'),
      newCode: () => `1.AW${randomB64url(240)}`,
      successParams: () => ({ session_state: randomId() }),
      denyParams: () => ({ error: 'access_denied', error_description: 'AADSTS65004: User declined to consent to access the app.' }),
      tenant,
    };
  }

  function accessToken(grant: GrantRecord, scopes: string[]): string {
    const user = microsoftUser(grant.account);
    const iat = epochSeconds(store.now());
    return jwtLooking(
      { typ: 'JWT', nonce: randomB64url(32), alg: 'RS256', x5t: 'sandbox', kid: 'sandbox' },
      {
        aud: GRAPH_APP_ID,
        iss: `https://sts.windows.net/${user.tid}/`,
        iat,
        nbf: iat,
        exp: iat + MICROSOFT_ACCESS_TTL_SECONDS,
        app_displayname: 'Sandbox app',
        appid: grant.clientId,
        idtyp: 'user',
        name: user.displayName,
        oid: user.oid,
        scp: scopes.map((scope) => (scope.toLowerCase().startsWith(GRAPH_RESOURCE) ? scope.slice(GRAPH_RESOURCE.length) : scope)).join(' '),
        sub: stableChars(`microsoft-sub:${grant.clientId}:${user.upn}`, 43, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        tid: user.tid,
        unique_name: user.upn,
        upn: user.upn,
        uti: randomB64url(16),
        ver: '1.0',
      },
    );
  }

  function idToken(grant: GrantRecord): string {
    const user = microsoftUser(grant.account);
    const iat = epochSeconds(store.now());
    return jwtLooking(
      { typ: 'JWT', alg: 'RS256', kid: 'sandbox' },
      {
        aud: grant.clientId,
        iss: `https://login.microsoftonline.com/${user.tid}/v2.0`,
        iat,
        nbf: iat,
        exp: iat + 3600,
        name: user.displayName,
        ...(grant.nonce !== undefined ? { nonce: grant.nonce } : {}),
        oid: user.oid,
        preferred_username: user.upn,
        ...(hasScope(grant.scopes, ['email']) ? { email: user.upn } : {}),
        sub: stableChars(`microsoft-pairwise:${grant.clientId}:${user.upn}`, 43, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
        tid: user.tid,
        uti: randomB64url(16),
        ver: '2.0',
      },
    );
  }

  function tokenResponse(grant: GrantRecord, scopes: string[]): SandboxResponse {
    const access = accessToken(grant, scopes);
    store.issueToken(grant, 'access', access, MICROSOFT_ACCESS_TTL_SECONDS, scopes);
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: scopes.join(' '),
      expires_in: MICROSOFT_ACCESS_TTL_SECONDS,
      ext_expires_in: MICROSOFT_ACCESS_TTL_SECONDS,
      access_token: access,
    };
    if (grant.offline) {
      const refresh = `0.AX${randomB64url(300)}`;
      store.issueToken(grant, 'refresh', refresh, MICROSOFT_REFRESH_TTL_SECONDS);
      body.refresh_token = refresh;
    }
    if (hasScope(grant.scopes, ['openid'])) body.id_token = idToken(grant);
    return jsonResponse(200, body);
  }

  // --- /{tenant}/oauth2/v2.0/token ---

  function token(request: SandboxRequest, tenant: string): SandboxResponse {
    const body = parseBody(request);
    const form = body.kind === 'form' ? body.params : {};
    const params = tokenRequestSchema.parse(form);
    const credentials = clientCredentials(request.headers, form);
    const missing = (name: string) =>
      entraError(request, 400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
    if (!params.grant_type) return missing('grant_type');
    if (!credentials.clientId) return missing('client_id');
    if (credentials.clientId !== client.clientId) {
      return entraError(request, 400, 'unauthorized_client', 700016, `Application with identifier '${credentials.clientId}' was not found in the directory 'Sandbox'.`);
    }
    if (!credentials.clientSecret) {
      return entraError(request, 401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (credentials.clientSecret !== client.clientSecret) {
      return entraError(request, 401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.');
    }

    if (params.grant_type === 'authorization_code') {
      if (!params.code) return missing('code');
      const check = checkCode(store, 'microsoft', client.clientId, {
        code: params.code,
        redirectUri: params.redirect_uri,
        codeVerifier: params.code_verifier,
      });
      if (!check.ok) {
        switch (check.reason) {
          case 'redirect_mismatch':
            return entraError(request, 400, 'invalid_grant', 70000, "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.");
          case 'missing_verifier':
          case 'bad_verifier':
            return entraError(request, 400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
          default:
            if (check.detail === 'used') {
              return entraError(request, 400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
            }
            if (check.detail === 'expired') {
              return entraError(request, 400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
            }
            return entraError(request, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
        }
      }
      const code = check.code;
      if (!tenantMatches(tenant, microsoftUser(code.account)) && tenant.toLowerCase() !== (code.tenant ?? '').toLowerCase()) {
        return entraError(request, 400, 'invalid_grant', 700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
      }
      store.markCodeUsed(check.key);
      const grant = store.createGrant({
        provider: 'microsoft',
        clientId: code.clientId,
        account: code.account,
        kind: 'oauth',
        scopes: code.scopes,
        offline: code.offline,
        ...(code.nonce !== undefined ? { nonce: code.nonce } : {}),
        ...(code.tenant !== undefined ? { tenant: code.tenant } : {}),
      });
      return tokenResponse(grant, code.scopes);
    }

    if (params.grant_type === 'refresh_token') {
      if (!params.refresh_token) return missing('refresh_token');
      const found = store.lookupToken('microsoft', params.refresh_token);
      if (found.status === 'unknown' || found.token.kind !== 'refresh' || found.grant.clientId !== client.clientId) {
        return entraError(request, 400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
      }
      if (found.status === 'revoked') {
        return entraError(request, 400, 'invalid_grant', 50173, 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.');
      }
      if (found.status === 'expired') {
        return entraError(request, 400, 'invalid_grant', 700082, `The refresh token has expired due to inactivity. The token was issued on ${new Date(found.token.issuedAt).toISOString()} and was inactive for 90.00:00:00.`);
      }
      const grant = found.grant;
      const requested = splitScopes(params.scope, ' ');
      const outside = requested.filter((scope) => !OIDC_SCOPES.has(scope.toLowerCase()) && !hasScope(grant.scopes, [scope]));
      if (outside.length > 0) {
        return entraError(request, 400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${outside.join(' ')}' was not granted to the application.`);
      }
      // A new refresh token comes back every time; the presented one is NOT revoked.
      return tokenResponse(grant, requested.length > 0 ? requested : grant.scopes);
    }
    return entraError(request, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }

  // --- Graph ---

  function authenticate(request: SandboxRequest, anyOf: readonly string[]): { grant: GrantRecord; scopes: string[] } | SandboxResponse {
    const challenge = {
      'www-authenticate': `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
    };
    const unauthorized = (message: string) => graphError(request, 401, 'InvalidAuthenticationToken', message, challenge);
    const raw = bearerToken(request.headers);
    if (!raw) return unauthorized('Access token is empty.');
    const found = store.lookupToken('microsoft', raw);
    if (found.status === 'unknown' || found.token.kind !== 'access') {
      return unauthorized(raw.includes('.') ? 'Access token validation failure. Invalid audience.' : 'IDX14100: JWT is not well formed, there are no dots (.).');
    }
    if (found.status === 'expired') return unauthorized('Lifetime validation failed, the token is expired.');
    if (found.status === 'revoked') {
      return unauthorized('Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp');
    }
    const scopes = found.token.scopes ?? found.grant.scopes;
    // An empty list means every valid token passes (the caller checks the scopes it needs itself).
    if (anyOf.length > 0 && !hasScope(scopes, anyOf)) {
      return graphError(request, 403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    return { grant: found.grant, scopes };
  }

  function graphBody(request: SandboxRequest): { ok: true; value: unknown } | { ok: false; response: SandboxResponse } {
    const body = parseBody(request);
    if (body.kind === 'json') return { ok: true, value: body.value };
    if (body.kind === 'empty') return { ok: false, response: graphError(request, 400, 'BadRequest', 'Empty Payload. JSON content expected.') };
    return {
      ok: false,
      response: graphError(request, 400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'),
    };
  }

  function me(request: SandboxRequest): SandboxResponse {
    const auth = authenticate(request, MICROSOFT_SCOPES.me);
    if ('status' in auth) return auth;
    const user = microsoftUser(auth.grant.account);
    return graphJson(request, 200, {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
      businessPhones: [],
      displayName: user.displayName,
      givenName: user.givenName,
      jobTitle: null,
      mail: user.upn,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: 'en-US',
      surname: user.surname,
      userPrincipalName: user.upn,
      id: user.oid,
    });
  }

  function createEvent(request: SandboxRequest): SandboxResponse {
    const auth = authenticate(request, MICROSOFT_SCOPES.events);
    if ('status' in auth) return auth;
    const body = graphBody(request);
    if (!body.ok) return body.response;
    const parsed = eventSchema.safeParse(body.value);
    if (!parsed.success) return graphError(request, 400, 'BadRequest', z.prettifyError(parsed.error));
    const input = parsed.data;
    if (!input.start || !input.end) {
      return graphError(request, 400, 'ErrorInvalidRequest', "Your request can't be completed. An event needs both Start and End.");
    }
    const user = microsoftUser(auth.grant.account);
    const id = `AAMkA${randomB64url(105)}=`;
    const now = new Date(store.now()).toISOString().replace('Z', '0000Z');
    const event: Record<string, unknown> = {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#users('${user.oid}')/events/$entity`,
      '@odata.etag': `W/"${randomB64url(24)}"`,
      id,
      createdDateTime: now,
      lastModifiedDateTime: now,
      changeKey: randomB64url(24),
      categories: [],
      originalStartTimeZone: input.start.timeZone,
      originalEndTimeZone: input.end.timeZone,
      iCalUId: `040000008200E00074C5B7101A82E008${randomB64url(24)}`,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: input.subject ?? '',
      bodyPreview: (input.body?.content ?? '').slice(0, 255),
      importance: 'normal',
      sensitivity: 'normal',
      isAllDay: false,
      isCancelled: false,
      isOrganizer: true,
      responseRequested: true,
      showAs: 'busy',
      type: 'singleInstance',
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
      isOnlineMeeting: false,
      responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body: { contentType: (input.body?.contentType ?? 'html').toLowerCase() === 'text' ? 'text' : 'html', content: input.body?.content ?? '' },
      start: input.start,
      end: input.end,
      location: { displayName: '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      attendees: (input.attendees ?? []).map((attendee) => ({
        type: attendee.type ?? 'required',
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: attendee.emailAddress,
      })),
      organizer: { emailAddress: { name: user.displayName, address: user.upn } },
    };
    store.record('calendarEvents', { provider: 'microsoft', account: user.upn, calendarId: 'me', id, event, at: new Date(store.now()).toISOString() });
    // Part of the calendar the delta queries read (without the entity's @odata.context).
    if (data) {
      const { '@odata.context': _context, ...stored } = event;
      data.add('events', user.upn, id, () => stored);
    }
    return graphJson(request, 201, event);
  }

  function sendMail(request: SandboxRequest): SandboxResponse {
    const auth = authenticate(request, MICROSOFT_SCOPES.sendMail);
    if ('status' in auth) return auth;
    const body = graphBody(request);
    if (!body.ok) return body.response;
    const parsed = sendMailSchema.safeParse(body.value);
    if (!parsed.success) return graphError(request, 400, 'ErrorInvalidRequest', z.prettifyError(parsed.error));
    const message = parsed.data.message;
    const addresses = (list: z.infer<typeof recipientsSchema>) => (list ?? []).map((recipient) => recipient.emailAddress.address);
    const to = addresses(message.toRecipients);
    const cc = addresses(message.ccRecipients);
    const bcc = addresses(message.bccRecipients);
    if (to.length + cc.length + bcc.length === 0) {
      return graphError(request, 400, 'ErrorInvalidRecipients', "At least one recipient is not valid., A message can't be sent because it contains no recipients.");
    }
    const invalid = [...to, ...cc, ...bcc].find((address) => !/^[^\s@]+@[^\s@]+$/.test(address));
    if (invalid !== undefined) {
      return graphError(request, 400, 'ErrorInvalidRecipients', `At least one recipient is not valid., Recipient '${invalid}' is not resolved. All recipients must be resolved before a message can be submitted.`);
    }
    const user = microsoftUser(auth.grant.account);
    store.record('emails', {
      id: randomId(),
      provider: 'microsoft',
      account: user.upn,
      from: user.upn,
      to,
      cc,
      bcc,
      subject: message.subject ?? '',
      contentType: (message.body?.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text',
      body: message.body?.content ?? '',
      headers: {},
      at: new Date(store.now()).toISOString(),
    });
    const requestId = randomId();
    return emptyResponse(202, { 'request-id': requestId, 'client-request-id': request.headers['client-request-id'] ?? requestId });
  }

  function channelMessage(request: SandboxRequest, teamId: string, channelId: string): SandboxResponse {
    const auth = authenticate(request, MICROSOFT_SCOPES.channelMessage);
    if ('status' in auth) return auth;
    const body = graphBody(request);
    if (!body.ok) return body.response;
    const parsed = channelMessageSchema.safeParse(body.value);
    if (!parsed.success || !parsed.data.body.content) {
      return graphError(request, 400, 'BadRequest', 'Missing body content');
    }
    const user = microsoftUser(auth.grant.account);
    const id = String(store.now());
    const now = new Date(store.now()).toISOString();
    const contentType = (parsed.data.body.contentType ?? 'text').toLowerCase() === 'html' ? 'html' : 'text';
    store.record('teamsMessages', { id, account: user.upn, teamId, channelId, contentType, content: parsed.data.body.content, at: now });
    return graphJson(request, 201, {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#teams('${teamId}')/channels('${encodeURIComponent(channelId)}')/messages/$entity`,
      id,
      replyToId: null,
      etag: id,
      messageType: 'message',
      createdDateTime: now,
      lastModifiedDateTime: now,
      lastEditedDateTime: null,
      deletedDateTime: null,
      subject: null,
      summary: null,
      chatId: null,
      importance: 'normal',
      locale: 'en-us',
      webUrl: `https://teams.microsoft.com/l/message/${encodeURIComponent(channelId)}/${id}?groupId=${teamId}&tenantId=${user.tid}&createdTime=${id}&parentMessageId=${id}`,
      policyViolation: null,
      eventDetail: null,
      from: {
        application: null,
        device: null,
        user: { '@odata.type': '#microsoft.graph.teamworkUserIdentity', id: user.oid, displayName: user.displayName, userIdentityType: 'aadUser', tenantId: user.tid },
      },
      body: { contentType, content: parsed.data.body.content },
      channelIdentity: { teamId, channelId },
      attachments: [],
      mentions: [],
      reactions: [],
    });
  }

  function loginNotFound(): SandboxResponse {
    return htmlResponse(404, renderErrorPage({ providerName: 'Microsoft', title: 'Not Found', message: 'The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.' }));
  }

  const graphApi: GraphApiContext = { authenticate, graphError, graphJson, graphBody };

  function handle(request: SandboxRequest): SandboxResponse | Promise<SandboxResponse> {
    const { method, path } = request;
    const login = /^\/login\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/.exec(path);
    if (login?.[1] && login[2]) {
      const tenant = login[1];
      if (!/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) {
        return htmlResponse(400, renderErrorPage({ providerName: 'Microsoft', title: 'invalid_tenant', message: `AADSTS90002: Tenant '${tenant}' not found.` }));
      }
      if (login[2] === 'authorize' && (method === 'GET' || method === 'POST')) return handleAuthorize(store, authorizeSpec(tenant), request);
      if (login[2] === 'token' && method === 'POST') return token(request, tenant);
      return loginNotFound();
    }
    if (path.startsWith('/login/')) return loginNotFound();
    if (path.startsWith('/graph/')) {
      const graphPath = path.slice('/graph'.length);
      if (/^\/v1\.0\/me\/?$/i.test(graphPath) && method === 'GET') return me(request);
      if (/^\/v1\.0\/me\/events\/?$/i.test(graphPath) && method === 'POST') return createEvent(request);
      if (/^\/v1\.0\/me\/sendMail\/?$/i.test(graphPath) && method === 'POST') return sendMail(request);
      const channel = /^\/v1\.0\/teams\/([^/]+)\/channels\/([^/]+)\/messages\/?$/i.exec(graphPath);
      if (channel?.[1] && channel[2] && method === 'POST') return channelMessage(request, safeDecode(channel[1]), safeDecode(channel[2]));
      const synced = sync?.handle(request, graphPath, graphApi);
      if (synced) return synced;
      const subscriptions = push?.handle(request, graphPath, graphApi);
      if (subscriptions) return subscriptions;
      const segment = graphPath.split('/').filter((part) => part !== '').pop() ?? '';
      return graphError(request, 404, 'ResourceNotFound', `Resource not found for the segment '${segment}'.`);
    }
    return loginNotFound();
  }

  function fault(request: SandboxRequest, status: FaultStatus, retryAfterSeconds: number | undefined): SandboxResponse {
    const retry = retryAfterHeader(status === 429 ? (retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) : retryAfterSeconds);
    if (request.path.startsWith('/graph/')) {
      if (status === 429) {
        return graphError(request, 429, 'TooManyRequests', 'Please retry again later.', retry, { code: '429', message: 'Please retry after', status: '429' });
      }
      const [code, message] =
        status === 503 ? ['serviceNotAvailable', 'Service Unavailable'] : status === 502 ? ['UnknownError', 'Bad Gateway'] : ['generalException', 'General exception while processing.'];
      return graphError(request, status, code, message, retry);
    }
    if (/\/oauth2\/v2\.0\/token$/.test(request.path)) {
      const response =
        status === 429
          ? entraError(request, 429, 'temporarily_unavailable', 90055, 'There are too many incoming requests. Please try again later.')
          : entraError(request, status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.');
      return { ...response, headers: { ...response.headers, ...retry } };
    }
    return htmlResponse(status, renderErrorPage({ providerName: 'Microsoft', title: `HTTP ${status}`, message: 'Sorry, but we’re having trouble signing you in. Please try again later.' }), retry);
  }

  return { id: 'microsoft', handle, fault };
}

function correlationId(request: SandboxRequest): string {
  const header = request.headers['client-request-id'];
  return header && /^[0-9a-f-]{36}$/i.test(header) ? header : randomId();
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
