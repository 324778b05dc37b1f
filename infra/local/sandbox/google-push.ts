import * as z from 'zod';
import { SandboxConflictError, SandboxInputError, SandboxNotFoundError, type GmailPushInput, type GoogleNotifyInput, type GoogleResourceState } from './control';
import { apiError } from './google-api';
import { emptyResponse, jsonResponse, type SandboxRequest, type SandboxResponse } from './http';
import { epochSeconds, randomDigits, stableChars, stableDigits } from './ids';
import { recordDelivery, type ChannelInfo, type Deliverer, type PushConfig, type PushSigner } from './push';
import type { GmailWatchRecord, GoogleChannelRecord, GrantRecord, SandboxStore } from './state';

/**
 * Google push: Calendar `events.watch` and Drive `changes.watch` channels
 * (`web_hook`, a `sync` message then change messages with no body,
 * `channels.stop`), Drive `changes.getStartPageToken`, Gmail `users.watch` /
 * `users.stop` and the Cloud Pub/Sub push with its RS256 OIDC token, whose
 * keys are served as a JWKS at `/www/oauth2/v3/certs`.
 */

export const GOOGLE_PUSH_SCOPES = {
  calendarRead: [
    'https://www.googleapis.com/auth/calendar',
    'https://www.googleapis.com/auth/calendar.readonly',
    'https://www.googleapis.com/auth/calendar.events',
    'https://www.googleapis.com/auth/calendar.events.readonly',
  ],
  drive: [
    'https://www.googleapis.com/auth/drive',
    'https://www.googleapis.com/auth/drive.file',
    'https://www.googleapis.com/auth/drive.readonly',
    'https://www.googleapis.com/auth/drive.metadata',
    'https://www.googleapis.com/auth/drive.metadata.readonly',
    'https://www.googleapis.com/auth/drive.appdata',
  ],
  gmailRead: [
    'https://www.googleapis.com/auth/gmail.readonly',
    'https://www.googleapis.com/auth/gmail.modify',
    'https://www.googleapis.com/auth/gmail.metadata',
    'https://mail.google.com/',
  ],
} as const;

/** The JWKS path under the Google provider (`https://www.googleapis.com/oauth2/v3/certs`). */
export const GOOGLE_JWKS_PATH = '/www/oauth2/v3/certs';
export const GMAIL_PUSH_SUBSCRIPTION = 'projects/sandbox/subscriptions/gmail-push';
export const GMAIL_PUSH_SERVICE_ACCOUNT = 'gmail-push@sandbox.iam.gserviceaccount.com';
export const GMAIL_WATCH_SECONDS = 7 * 24 * 3600;

const PROJECT_NUMBER = stableDigits('google-project', 12);
const SERVICE_ACCOUNT_ID = `1${stableDigits('gmail-push-service-account', 20)}`;
const GOOGLE_API_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';
const RESOURCE_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789_-';

const CALENDAR_STATES = ['exists', 'not_exists'] as const;
const DRIVE_STATES = ['add', 'remove', 'update', 'trash', 'untrash', 'change'] as const;

const channelRequestSchema = z
  .object({
    id: z.string().optional(),
    type: z.string().optional(),
    address: z.string().optional(),
    token: z.string().optional(),
    expiration: z.union([z.string(), z.number()]).optional(),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .loose();

const stopRequestSchema = z.object({ id: z.string().optional(), resourceId: z.string().optional() }).loose();

const gmailWatchRequestSchema = z
  .object({
    topicName: z.string().optional(),
    labelIds: z.array(z.string()).optional(),
    labelFilterBehavior: z.string().optional(),
    labelFilterAction: z.string().optional(),
  })
  .loose();

export interface GoogleApiContext {
  authenticate(request: SandboxRequest, anyOf: readonly string[]): GrantRecord | SandboxResponse;
  jsonBody(request: SandboxRequest): { ok: true; value: unknown } | { ok: false; response: SandboxResponse };
}

export interface GoogleNotifyResult {
  channelId: string;
  resourceId: string;
  state: GoogleResourceState;
  /** What the app answered each message (null: no answer). Empty when the channel is stopped or expired. */
  statuses: Array<number | null>;
  messageNumbers: number[];
  skipped?: 'stopped' | 'expired';
}

export interface GmailPushResult {
  emailAddress: string;
  historyId: string;
  messageId: string;
  audience: string;
  status: number | null;
  error?: string;
}

export interface GooglePush {
  /** The answer to a push route, or undefined when the request is not one. */
  handle(request: SandboxRequest, api: GoogleApiContext): SandboxResponse | Promise<SandboxResponse> | undefined;
  notify(input: GoogleNotifyInput): Promise<GoogleNotifyResult>;
  gmailPush(input: GmailPushInput): Promise<GmailPushResult>;
  channels(): ChannelInfo[];
}

interface Deps {
  store: SandboxStore;
  deliverer: Deliverer;
  signer: PushSigner;
  config: () => PushConfig;
}

type ChannelSend = { status: number | null; messageNumber: number } | { skipped: 'stopped' | 'expired' };

export function createGooglePush({ store, deliverer, signer, config }: Deps): GooglePush {
  const channels = () => store.push.googleChannels;
  const json = (body: unknown) => jsonResponse(200, body, { 'content-type': 'application/json; charset=UTF-8' });

  const counter = (kind: 'gmailHistory' | 'driveChanges', account: string): number => store.counter(kind, account);
  const bump = (kind: 'gmailHistory' | 'driveChanges', account: string, to?: number): number => store.bumpCounter(kind, account, to);

  function channelStatus(channel: GoogleChannelRecord): 'live' | 'stopped' | 'expired' {
    if (channel.stoppedAt !== undefined) return 'stopped';
    return channel.expiration <= store.now() ? 'expired' : 'live';
  }

  // --- sending ---

  /** One message on a channel, after its earlier ones; nothing is sent once it is stopped, expired or forgotten. */
  function sendChannelMessage(channel: GoogleChannelRecord, state: GoogleResourceState | 'sync'): Promise<ChannelSend> {
    return deliverer.enqueue(`google:${channel.id}`, async (): Promise<ChannelSend> => {
      if (channels()[channel.id] !== channel || channel.stoppedAt !== undefined) return { skipped: 'stopped' };
      if (channel.expiration <= store.now()) return { skipped: 'expired' };
      channel.messageNumber += 1;
      const messageNumber = channel.messageNumber;
      store.touch();
      const headers: Record<string, string> = {
        'content-type': 'application/json; utf-8',
        'user-agent': GOOGLE_API_AGENT,
        'x-goog-channel-id': channel.id,
        'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
        'x-goog-resource-id': channel.resourceId,
        'x-goog-resource-uri': channel.resourceUri,
        'x-goog-resource-state': state,
        'x-goog-message-number': String(messageNumber),
        ...(channel.token !== undefined ? { 'x-goog-channel-token': channel.token } : {}),
      };
      const at = store.now();
      const outcome = await deliverer.send(channel.address, { headers, body: '' });
      recordDelivery(channel.deliveries, state === 'sync' ? 'sync' : 'notification', at, outcome, { messageNumber, detail: state });
      store.touch();
      return { status: outcome.status, messageNumber };
    });
  }

  async function notify(input: GoogleNotifyInput): Promise<GoogleNotifyResult> {
    const channel = channels()[input.channelId];
    if (!channel) throw new SandboxNotFoundError(`No Google channel ${input.channelId}`);
    const allowed: readonly string[] = channel.api === 'calendar' ? CALENDAR_STATES : DRIVE_STATES;
    const state = input.state ?? (channel.api === 'calendar' ? 'exists' : 'change');
    if (!allowed.includes(state)) {
      throw new SandboxInputError(`A ${channel.api} channel sends the states ${allowed.join(', ')}; not ${state}`);
    }
    const result: GoogleNotifyResult = { channelId: channel.id, resourceId: channel.resourceId, state, statuses: [], messageNumbers: [] };
    const status = channelStatus(channel);
    if (status !== 'live') return { ...result, skipped: status };
    for (let i = 0; i < (input.count ?? 1); i += 1) {
      if (channel.api === 'drive') bump('driveChanges', channel.account);
      const sent = await sendChannelMessage(channel, state);
      if ('skipped' in sent) return { ...result, skipped: sent.skipped };
      result.statuses.push(sent.status);
      result.messageNumbers.push(sent.messageNumber);
    }
    return result;
  }

  // --- watch / stop ---

  interface WatchTarget {
    api: 'calendar' | 'drive';
    resourceUri: string;
    /** Identifies the watched resource: the same resource gets the same resourceId. */
    resourceKey: string;
  }

  function parseMs(value: string | number): number | undefined {
    const number = typeof value === 'number' ? value : /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
    return Number.isSafeInteger(number) && number >= 0 ? number : undefined;
  }

  function watch(request: SandboxRequest, api: GoogleApiContext, grant: GrantRecord, target: WatchTarget): SandboxResponse {
    const body = api.jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = channelRequestSchema.safeParse(body.value);
    if (!parsed.success) return apiError(400, 'Invalid JSON payload received.', 'parseError', { detail: z.prettifyError(parsed.error) });
    const input = parsed.data;
    if (!input.id) return apiError(400, 'Required field: id', 'required');
    if (!/^[A-Za-z0-9\-_+/=]{1,64}$/.test(input.id)) {
      return apiError(400, `Invalid channel id: ${input.id}. Use at most 64 characters of [A-Za-z0-9-_+/=].`, 'invalid');
    }
    if (!input.type) return apiError(400, 'Required field: type', 'required');
    if (input.type !== 'web_hook' && input.type !== 'webhook') return apiError(400, `Invalid channel type: ${input.type}`, 'invalid');
    if (!input.address) return apiError(400, 'Required field: address', 'required');
    let address: URL;
    try {
      address = new URL(input.address);
    } catch {
      return apiError(400, `WebHook callback must be HTTPS: ${input.address}`, 'push.webhookUrlNotHttps', { domain: 'push' });
    }
    if ((address.protocol !== 'https:' && address.protocol !== 'http:') || address.hash !== '') {
      return apiError(400, `WebHook callback must be HTTPS: ${input.address}`, 'push.webhookUrlNotHttps', { domain: 'push' });
    }
    if (input.token !== undefined && input.token.length > 256) return apiError(400, 'Channel token too long (at most 256 characters).', 'invalid');

    const now = store.now();
    const limits = target.api === 'calendar' ? config().googleChannels.calendar : config().googleChannels.driveChanges;
    const wanted: number[] = [];
    if (input.expiration !== undefined) {
      const ms = parseMs(input.expiration);
      if (ms === undefined) return apiError(400, `Invalid value for expiration: ${String(input.expiration)}`, 'invalid');
      wanted.push(ms);
    }
    const ttl = input.params?.ttl;
    if (ttl !== undefined) {
      const seconds = parseMs(typeof ttl === 'boolean' ? Number.NaN : ttl);
      if (seconds === undefined || seconds === 0) return apiError(400, `Invalid value for params.ttl: ${String(ttl)}`, 'invalid');
      wanted.push(now + seconds * 1000);
    }
    const requested = wanted.length > 0 ? Math.min(...wanted) : now + limits.defaultSeconds * 1000;
    if (requested <= now) return apiError(400, 'Channel expiration must be in the future.', 'invalid');
    const expiration = Math.min(requested, now + limits.maxSeconds * 1000);

    const existing = channels()[input.id];
    if (existing && channelStatus(existing) === 'live') return apiError(400, 'Channel id not unique', 'channelIdNotUnique');

    const channel: GoogleChannelRecord = {
      id: input.id,
      api: target.api,
      account: grant.account,
      clientId: grant.clientId,
      resourceId: stableChars(`google-resource:${target.resourceKey}`, 27, RESOURCE_ID_ALPHABET),
      resourceUri: target.resourceUri,
      address: address.toString(),
      ...(input.token !== undefined ? { token: input.token } : {}),
      expiration,
      createdAt: now,
      messageNumber: 0,
      deliveries: [],
    };
    channels()[channel.id] = channel;
    store.touch();
    // Google may send the sync message before the watch answer arrives: do not wait for it.
    void sendChannelMessage(channel, 'sync');
    return json({
      kind: 'api#channel',
      id: channel.id,
      resourceId: channel.resourceId,
      resourceUri: channel.resourceUri,
      ...(channel.token !== undefined ? { token: channel.token } : {}),
      expiration: String(channel.expiration),
    });
  }

  function watchCalendar(request: SandboxRequest, api: GoogleApiContext, calendarId: string): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.calendarRead);
    if ('status' in grant) return grant;
    if (calendarId !== 'primary' && calendarId.toLowerCase() !== grant.account) return apiError(404, 'Not Found', 'notFound');
    const uriId = encodeURIComponent(calendarId).replace(/%40/g, '@');
    return watch(request, api, grant, {
      api: 'calendar',
      resourceUri: `https://www.googleapis.com/calendar/v3/calendars/${uriId}/events`,
      resourceKey: `calendar:${grant.account}`,
    });
  }

  function watchDriveChanges(request: SandboxRequest, api: GoogleApiContext): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    const pageToken = request.query.get('pageToken');
    if (!pageToken) return apiError(400, 'The query parameter pageToken is required.', 'required', { detail: 'Required parameter: pageToken' });
    if (!/^\d{1,16}$/.test(pageToken)) return apiError(400, `Invalid Value: ${pageToken}`, 'invalid');
    return watch(request, api, grant, {
      api: 'drive',
      resourceUri: `https://www.googleapis.com/drive/v3/changes?alt=json&pageToken=${pageToken}`,
      resourceKey: `drive-changes:${grant.account}`,
    });
  }

  function startPageToken(request: SandboxRequest, api: GoogleApiContext): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    // A page token names the first change not yet seen: the counter is the id of the last one.
    return json({ kind: 'drive#startPageToken', startPageToken: String(counter('driveChanges', grant.account) + 1) });
  }

  function stop(request: SandboxRequest, api: GoogleApiContext, which: 'calendar' | 'drive'): SandboxResponse {
    const grant = api.authenticate(request, which === 'calendar' ? GOOGLE_PUSH_SCOPES.calendarRead : GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    const body = api.jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = stopRequestSchema.safeParse(body.value);
    if (!parsed.success) return apiError(400, 'Invalid JSON payload received.', 'parseError', { detail: z.prettifyError(parsed.error) });
    const { id, resourceId } = parsed.data;
    if (!id) return apiError(400, 'Required field: id', 'required');
    if (!resourceId) return apiError(400, 'Required field: resourceId', 'required');
    const channel = channels()[id];
    const found =
      channel !== undefined &&
      channel.api === which &&
      channel.resourceId === resourceId &&
      channel.account === grant.account &&
      channel.clientId === grant.clientId &&
      channelStatus(channel) === 'live';
    if (!found) return apiError(404, `Channel '${id}' not found for project '${PROJECT_NUMBER}'`, 'notFound');
    channel.stoppedAt = store.now();
    store.touch();
    return emptyResponse(204);
  }

  // --- Gmail ---

  function gmailUser(request: SandboxRequest, api: GoogleApiContext, userId: string): GrantRecord | SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.gmailRead);
    if ('status' in grant) return grant;
    if (userId !== 'me' && userId.toLowerCase() !== grant.account) return apiError(403, `Delegation denied for ${grant.account}`, 'forbidden');
    return grant;
  }

  function watchStatus(watchRecord: GmailWatchRecord | undefined): watchRecord is GmailWatchRecord {
    return watchRecord !== undefined && watchRecord.stoppedAt === undefined && watchRecord.expiration > store.now();
  }

  function gmailWatch(request: SandboxRequest, api: GoogleApiContext, userId: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const body = api.jsonBody(request);
    if (!body.ok) return body.response;
    const parsed = gmailWatchRequestSchema.safeParse(body.value);
    if (!parsed.success) return apiError(400, 'Invalid JSON payload received.', 'invalidArgument', { detail: z.prettifyError(parsed.error) });
    const input = parsed.data;
    if (!input.topicName) return apiError(400, 'Invalid topicName: a topic name is required (projects/<project>/topics/<topic>)', 'invalidArgument');
    if (!/^projects\/[^/\s]+\/topics\/[^/\s]+$/.test(input.topicName)) {
      return apiError(400, `Invalid topicName does not match projects/SOME-PROJECT/topics/*: ${input.topicName}`, 'invalidArgument');
    }
    const behavior = input.labelFilterBehavior ?? input.labelFilterAction;
    if (behavior !== undefined && !/^(include|exclude)$/i.test(behavior)) {
      return apiError(400, `Invalid value for labelFilterBehavior: ${behavior}`, 'invalidArgument');
    }
    const now = store.now();
    const previous = store.push.gmailWatches[grant.account];
    const record: GmailWatchRecord = {
      account: grant.account,
      clientId: grant.clientId,
      topicName: input.topicName,
      labelIds: input.labelIds ?? [],
      ...(behavior !== undefined ? { labelFilterBehavior: behavior.toUpperCase() } : {}),
      expiration: now + GMAIL_WATCH_SECONDS * 1000,
      createdAt: now,
      // A renewed watch keeps its delivery history.
      deliveries: previous?.deliveries ?? [],
    };
    store.push.gmailWatches[grant.account] = record;
    store.touch();
    const historyId = counter('gmailHistory', grant.account);
    // A successful watch sends one notification right away (when the sandbox knows where pushes go).
    const settings = config();
    if (settings.gmailPushUrl) void sendGmailPush(record, historyId, settings.gmailPushUrl, settings.gmailPushAudience ?? settings.gmailPushUrl);
    return json({ historyId: String(historyId), expiration: String(record.expiration) });
  }

  function gmailStop(request: SandboxRequest, api: GoogleApiContext, userId: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const record = store.push.gmailWatches[grant.account];
    if (record && record.clientId === grant.clientId && record.stoppedAt === undefined) {
      record.stoppedAt = store.now();
      store.touch();
    }
    return emptyResponse(204);
  }

  function sendGmailPush(record: GmailWatchRecord, historyId: number, url: string, audience: string): Promise<GmailPushResult> {
    return deliverer.enqueue(`gmail:${record.account}`, async (): Promise<GmailPushResult> => {
      const messageId = `1${randomDigits(15)}`;
      const result: GmailPushResult = { emailAddress: record.account, historyId: String(historyId), messageId, audience, status: null };
      if (store.push.gmailWatches[record.account] !== record || !watchStatus(record)) return { ...result, error: 'the watch ended before the push' };
      const at = store.now();
      const iat = epochSeconds(at);
      const jwt = await signer.sign({
        iss: 'https://accounts.google.com',
        aud: audience,
        azp: SERVICE_ACCOUNT_ID,
        sub: SERVICE_ACCOUNT_ID,
        email: GMAIL_PUSH_SERVICE_ACCOUNT,
        email_verified: true,
        iat,
        exp: iat + 3600,
      });
      // The layout of the Gmail push guide's sample: {"emailAddress": "…", "historyId": "…"}.
      const data = Buffer.from(`{"emailAddress": ${JSON.stringify(record.account)}, "historyId": ${JSON.stringify(String(historyId))}}`, 'utf8').toString('base64');
      const publishTime = new Date(at).toISOString();
      const body = JSON.stringify({
        message: { data, attributes: {}, messageId, message_id: messageId, publishTime, publish_time: publishTime },
        subscription: GMAIL_PUSH_SUBSCRIPTION,
      });
      const outcome = await deliverer.send(url, {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}`, 'user-agent': 'CloudPubSub-Google' },
        body,
      });
      recordDelivery(record.deliveries, 'push', at, outcome, { detail: String(historyId) });
      store.touch();
      return { ...result, status: outcome.status, ...(outcome.error !== undefined ? { error: outcome.error } : {}) };
    });
  }

  async function gmailPush(input: GmailPushInput): Promise<GmailPushResult> {
    const settings = config();
    if (!settings.gmailPushUrl) {
      throw new SandboxConflictError('No Gmail push endpoint: configure it first (sandbox.configurePush({ gmailPushUrl }) or POST /_control/push-config)');
    }
    const account = input.emailAddress.trim().toLowerCase();
    const record = store.push.gmailWatches[account];
    if (!watchStatus(record)) {
      throw new SandboxConflictError(`No active Gmail watch for ${account}: users.watch was never called, or users.stop was, or it is over 7 days old`);
    }
    const wanted = input.historyId === undefined ? undefined : Number(input.historyId);
    const historyId = bump('gmailHistory', account, wanted);
    return sendGmailPush(record, wanted ?? historyId, settings.gmailPushUrl, input.audience ?? settings.gmailPushAudience ?? settings.gmailPushUrl);
  }

  // --- JWKS ---

  function certs(): SandboxResponse {
    return {
      status: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'public, max-age=3600, must-revalidate' },
      body: JSON.stringify(signer.jwks()),
    };
  }

  function handle(request: SandboxRequest, api: GoogleApiContext): SandboxResponse | undefined {
    const { method, path } = request;
    const post = method === 'POST';
    if (path === GOOGLE_JWKS_PATH && method === 'GET') return certs();
    const calendar = /^\/www\/calendar\/v3\/calendars\/([^/]+)\/events\/watch$/.exec(path);
    if (calendar?.[1] && post) return watchCalendar(request, api, safeDecode(calendar[1]));
    if (path === '/www/calendar/v3/channels/stop' && post) return stop(request, api, 'calendar');
    if (path === '/www/drive/v3/changes/watch' && post) return watchDriveChanges(request, api);
    if (path === '/www/drive/v3/changes/startPageToken' && method === 'GET') return startPageToken(request, api);
    if (path === '/www/drive/v3/channels/stop' && post) return stop(request, api, 'drive');
    const gmail = /^\/(?:gmail\/gmail|www\/gmail)\/v1\/users\/([^/]+)\/(watch|stop)$/.exec(path);
    if (gmail?.[1] && post) return gmail[2] === 'watch' ? gmailWatch(request, api, safeDecode(gmail[1])) : gmailStop(request, api, safeDecode(gmail[1]));
    return undefined;
  }

  function list(): ChannelInfo[] {
    const now = store.now();
    const out: ChannelInfo[] = Object.values(channels()).map((channel) => ({
      provider: 'google',
      kind: channel.api,
      id: channel.id,
      resource: channel.resourceUri,
      resourceId: channel.resourceId,
      account: channel.account,
      address: channel.address,
      expiration: new Date(channel.expiration).toISOString(),
      expirationMs: channel.expiration,
      stopped: channel.stoppedAt !== undefined,
      expired: channel.expiration <= now,
      deliveries: channel.deliveries.map((delivery) => ({ ...delivery })),
    }));
    for (const record of Object.values(store.push.gmailWatches)) {
      out.push({
        provider: 'google',
        kind: 'gmail',
        id: `gmail:${record.account}`,
        resource: record.topicName,
        account: record.account,
        address: config().gmailPushUrl,
        expiration: new Date(record.expiration).toISOString(),
        expirationMs: record.expiration,
        stopped: record.stoppedAt !== undefined,
        expired: record.expiration <= now,
        deliveries: record.deliveries.map((delivery) => ({ ...delivery })),
      });
    }
    return out;
  }

  return { handle, notify, gmailPush, channels: list };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
