import * as z from 'zod';
import { decodeToken, encodeToken, pageSize, type DataItem, type Page, type SyncData } from './data';
import { apiError } from './google-api';
import { GOOGLE_PUSH_SCOPES, type GoogleApiContext } from './google-push';
import { jsonResponse, type SandboxRequest, type SandboxResponse } from './http';
import type { GrantRecord } from './state';

/**
 * What the Google sync reads, with Google's incremental protocols:
 *
 * - Calendar `GET /calendar/v3/calendars/{primary|email}/events`: a full
 *   listing (`maxResults` default 250, max 2500; `pageToken` →
 *   `nextPageToken`; the last page has `nextSyncToken`), then `syncToken`
 *   returns what changed since (deleted events as `status: 'cancelled'`). A
 *   sync token that was invalidated or is older than a pruned deletion →
 *   410 `fullSyncRequired`. `syncToken` refuses `timeMin`, `timeMax`,
 *   `updatedMin`, `orderBy`, `q` and `iCalUID` (400).
 * - Drive `GET /drive/v3/changes?pageToken=` (`pageSize` default 100, max
 *   1000): page tokens are change numbers (`changes.getStartPageToken`, then
 *   `nextPageToken` / `newStartPageToken`); `removed: true` for deleted
 *   files. Drive documents no expiry of page tokens: an invalidated one gets
 *   410 with reason `fullSyncRequired` here (a sandbox choice, like Calendar).
 *   `GET /drive/v3/files` lists (`pageSize` default 100, max 1000; only the
 *   `trashed = true|false` clause of `q` is understood), `GET
 *   /drive/v3/files/{id}` reads one.
 * - Gmail `GET /gmail/v1/users/me/history?startHistoryId=` (`maxResults`
 *   default 100, max 500): `messagesAdded`, `messagesDeleted` and
 *   `labelsAdded` records, the mailbox's `historyId`, `nextPageToken`;
 *   `history` is absent when nothing changed, as in Gmail. A start older
 *   than the retained history (invalidated, or before a pruned deletion) →
 *   404 `notFound`. `GET /gmail/v1/users/me/messages` lists newest first
 *   (`maxResults` default 100, max 500; `labelIds`), `messages/{id}` reads
 *   one (`format=minimal|metadata|full`), `profile` has the `historyId`.
 */

export const GOOGLE_PAGE_LIMITS = {
  calendar: { default: 250, max: 2_500 },
  driveChanges: { default: 100, max: 1_000 },
  driveFiles: { default: 100, max: 1_000 },
  gmailHistory: { default: 100, max: 500 },
  gmailMessages: { default: 100, max: 500 },
} as const;

const FULL_SYNC_MESSAGE = 'Sync token is no longer valid, a full sync is required.';

const fullSyncRequired = (message = FULL_SYNC_MESSAGE): SandboxResponse => apiError(410, message, 'fullSyncRequired', { status: null });
const gmailNotFound = (): SandboxResponse => apiError(404, 'Requested entity was not found.', 'notFound');

const calendarPageSchema = z.object({
  t: z.string(),
  /** full: paging by creation after `p`, the sync token is `s`; sync: changes after `p`. */
  m: z.enum(['full', 'sync']),
  p: z.number(),
  s: z.number(),
  d: z.boolean().optional(),
  w: z.tuple([z.number().nullable(), z.number().nullable()]).optional(),
});
const syncTokenSchema = z.object({ t: z.string(), s: z.number() });
const positionSchema = z.object({ t: z.string(), p: z.number() });

const iso = (ms: number): string => new Date(ms).toISOString();

/** The instant of a Calendar `start`/`end` (`dateTime`, or an all-day `date`). */
function calendarInstant(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const time = value as { dateTime?: unknown; date?: unknown };
  if (typeof time.dateTime === 'string') {
    const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(time.dateTime) ? time.dateTime : `${time.dateTime}Z`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof time.date === 'string') {
    const ms = Date.parse(`${time.date}T00:00:00Z`);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function parseRfc3339(raw: string | null): number | null | 'invalid' {
  if (raw === null || raw === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw)) return 'invalid';
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? 'invalid' : ms;
}

export interface GoogleSync {
  handle(request: SandboxRequest, api: GoogleApiContext): SandboxResponse | undefined;
}

export function createGoogleSync(data: SyncData): GoogleSync {
  const json = (body: unknown) => jsonResponse(200, body, { 'content-type': 'application/json; charset=UTF-8' });

  // --- Calendar ---

  function cancelled(item: DataItem): Record<string, unknown> {
    return { kind: 'calendar#event', etag: item.value.etag, id: item.id, status: 'cancelled' };
  }

  function listEvents(request: SandboxRequest, api: GoogleApiContext, calendarId: string): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.calendarRead);
    if ('status' in grant) return grant;
    const account = grant.account;
    if (calendarId !== 'primary' && calendarId.toLowerCase() !== account) return apiError(404, 'Not Found', 'notFound');
    const query = request.query;
    const size = pageSize(query.get('maxResults'), GOOGLE_PAGE_LIMITS.calendar);
    if (size === undefined) return apiError(400, `Invalid value '${query.get('maxResults') ?? ''}'. Values must be within the range: [1, 2500]`, 'invalid');
    const tag = data.tag('calendar', account);
    const syncTokenRaw = query.get('syncToken');
    const pageTokenRaw = query.get('pageToken');
    if (syncTokenRaw !== null) {
      for (const name of ['timeMin', 'timeMax', 'updatedMin', 'orderBy', 'q', 'iCalUID']) {
        if (query.get(name) !== null) return apiError(400, `The ${name} parameter cannot be used with syncToken.`, 'invalid');
      }
    }
    const timeMin = parseRfc3339(query.get('timeMin'));
    const timeMax = parseRfc3339(query.get('timeMax'));
    if (timeMin === 'invalid' || timeMax === 'invalid') return apiError(400, 'Bad Request', 'badRequest');

    let mode: 'full' | 'sync';
    let position: number | undefined;
    let snapshot: number;
    let showDeleted = query.get('showDeleted') === 'true';
    let window: [number | null, number | null] = [timeMin, timeMax];
    if (pageTokenRaw !== null) {
      const token = decodeToken(pageTokenRaw, calendarPageSchema);
      if (!token || token.t !== tag) return apiError(400, 'Invalid page token value.', 'invalid');
      mode = token.m;
      position = token.p;
      snapshot = token.s;
      showDeleted = token.d ?? showDeleted;
      window = token.w ?? window;
      if (mode === 'sync' && !data.valid('calendar', account, token.p)) return fullSyncRequired();
    } else if (syncTokenRaw !== null) {
      const token = decodeToken(syncTokenRaw, syncTokenSchema);
      if (!token || token.t !== tag) return apiError(400, 'Invalid sync token value.', 'invalid');
      if (!data.valid('calendar', account, token.s)) return fullSyncRequired();
      mode = 'sync';
      position = token.s;
      snapshot = token.s;
    } else {
      mode = 'full';
      snapshot = data.current('calendar', account);
    }

    const inWindow = (item: DataItem): boolean => {
      const [min, max] = window;
      if (min === null && max === null) return true;
      const start = calendarInstant(item.value.start);
      const end = calendarInstant(item.value.end) ?? start;
      if (start === undefined || end === undefined) return true;
      return (min === null || end > min) && (max === null || start < max);
    };
    let page: Page;
    if (mode === 'sync') {
      page = data.pageOfChanges('calendar', account, { after: position ?? snapshot, size });
    } else {
      page = data.pageByCreation('calendar', account, { position, size, filter: (item) => (showDeleted || !item.deleted) && inWindow(item) });
    }
    const last = page.items[page.items.length - 1];
    const items = page.items.map((item) => (item.deleted ? cancelled(item) : item.value));
    const updated = page.items.reduce((latest, item) => Math.max(latest, item.at), 0);
    const body: Record<string, unknown> = {
      kind: 'calendar#events',
      etag: `"p${String(snapshot).padStart(14, '0')}"`,
      summary: account,
      description: '',
      updated: iso(updated || data.list('calendar', account).reduce((latest, item) => Math.max(latest, item.at), 0) || 0),
      timeZone: 'UTC',
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
    };
    if (page.more && last) {
      body.nextPageToken = encodeToken({
        t: tag,
        m: mode,
        p: mode === 'sync' ? last.seq : last.created,
        s: snapshot,
        ...(showDeleted ? { d: true } : {}),
        ...(window[0] !== null || window[1] !== null ? { w: window } : {}),
      });
    } else {
      // A full listing ends with the sequence it started from (changes made while paging come next time).
      body.nextSyncToken = encodeToken({ t: tag, s: mode === 'sync' ? data.current('calendar', account) : snapshot });
    }
    body.items = items;
    return json(body);
  }

  // --- Drive ---

  function driveChanges(request: SandboxRequest, api: GoogleApiContext): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    const account = grant.account;
    const pageToken = request.query.get('pageToken');
    if (!pageToken) return apiError(400, 'The query parameter pageToken is required.', 'required', { detail: 'Required parameter: pageToken' });
    if (!/^\d{1,16}$/.test(pageToken)) return apiError(400, `Invalid Value: ${pageToken}`, 'invalid');
    const size = pageSize(request.query.get('pageSize'), GOOGLE_PAGE_LIMITS.driveChanges);
    if (size === undefined) return apiError(400, `Invalid value '${request.query.get('pageSize') ?? ''}'. Values must be within the range: [1, 1000]`, 'invalid');
    // A page token is the first change not yet seen.
    const seen = Number(pageToken) - 1;
    if (!data.valid('drive', account, seen)) return fullSyncRequired('The page token is no longer valid, a full sync is required.');
    const includeRemoved = request.query.get('includeRemoved') !== 'false';
    const page = data.pageOfChanges('drive', account, { after: seen, size, ...(includeRemoved ? {} : { filter: (item: DataItem) => !item.deleted }) });
    const changes = page.items.map((item) => ({
      kind: 'drive#change',
      changeType: 'file',
      time: iso(item.at),
      removed: item.deleted === true,
      fileId: item.id,
      ...(item.deleted ? {} : { file: item.value }),
    }));
    const last = page.items[page.items.length - 1];
    return json({
      kind: 'drive#changeList',
      ...(page.more && last ? { nextPageToken: String(last.seq + 1) } : { newStartPageToken: String(data.current('drive', account) + 1) }),
      changes,
    });
  }

  function driveFiles(request: SandboxRequest, api: GoogleApiContext): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    const account = grant.account;
    const size = pageSize(request.query.get('pageSize'), GOOGLE_PAGE_LIMITS.driveFiles);
    if (size === undefined) return apiError(400, `Invalid value '${request.query.get('pageSize') ?? ''}'. Values must be within the range: [1, 1000]`, 'invalid');
    const tag = data.tag('drive', account);
    const raw = request.query.get('pageToken');
    let position: number | undefined;
    if (raw !== null && raw !== '') {
      const token = decodeToken(raw, positionSchema);
      if (!token || token.t !== tag) return apiError(400, 'Invalid Value', 'invalid', { detail: `Invalid value for pageToken: ${raw}` });
      position = token.p;
    }
    const trashed = /\btrashed\s*=\s*(true|false)\b/i.exec(request.query.get('q') ?? '')?.[1]?.toLowerCase();
    const page = data.pageByCreation('drive', account, {
      position,
      size,
      filter: (item) => !item.deleted && (trashed === undefined || String(item.value.trashed === true) === trashed),
    });
    const last = page.items[page.items.length - 1];
    return json({
      kind: 'drive#fileList',
      incompleteSearch: false,
      ...(page.more && last ? { nextPageToken: encodeToken({ t: tag, p: last.created }) } : {}),
      files: page.items.map((item) => item.value),
    });
  }

  function driveFile(request: SandboxRequest, api: GoogleApiContext, fileId: string): SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.drive);
    if ('status' in grant) return grant;
    const item = data.get('drive', grant.account, fileId);
    if (!item || item.deleted) return apiError(404, `File not found: ${fileId}.`, 'notFound', { location: 'fileId' });
    return json(item.value);
  }

  // --- Gmail ---

  function gmailUser(request: SandboxRequest, api: GoogleApiContext, userId: string): GrantRecord | SandboxResponse {
    const grant = api.authenticate(request, GOOGLE_PUSH_SCOPES.gmailRead);
    if ('status' in grant) return grant;
    if (userId !== 'me' && userId.toLowerCase() !== grant.account) return apiError(403, `Delegation denied for ${grant.account}`, 'forbidden');
    return grant;
  }

  const ref = (item: DataItem) => ({ id: item.id, threadId: item.value.threadId ?? item.id });
  const labels = (item: DataItem): string[] =>
    Array.isArray(item.value.labelIds) ? item.value.labelIds.filter((label): label is string => typeof label === 'string') : [];

  /** The history records of one changed message since `after`. */
  function historyRecords(item: DataItem, after: number): Array<{ id: number; type: string; record: Record<string, unknown> }> {
    const out: Array<{ id: number; type: string; record: Record<string, unknown> }> = [];
    const message = { ...ref(item), labelIds: labels(item) };
    if (item.created > after) {
      out.push({ id: item.created, type: 'messageAdded', record: { id: String(item.created), messages: [ref(item)], messagesAdded: [{ message }] } });
    }
    if (item.deleted) {
      out.push({ id: item.seq, type: 'messageDeleted', record: { id: String(item.seq), messages: [ref(item)], messagesDeleted: [{ message }] } });
    } else if (item.seq > item.created) {
      out.push({
        id: item.seq,
        type: 'labelAdded',
        record: { id: String(item.seq), messages: [ref(item)], labelsAdded: [{ message, labelIds: labels(item) }] },
      });
    }
    return out;
  }

  function history(request: SandboxRequest, api: GoogleApiContext, userId: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const account = grant.account;
    const query = request.query;
    const start = query.get('startHistoryId');
    if (start === null || start === '') return apiError(400, 'Missing required parameter: startHistoryId', 'invalidArgument');
    if (!/^\d{1,20}$/.test(start)) return apiError(400, `Invalid startHistoryId: ${start}`, 'invalidArgument');
    const size = pageSize(query.get('maxResults'), GOOGLE_PAGE_LIMITS.gmailHistory);
    if (size === undefined) return apiError(400, 'Invalid maxResults', 'invalidArgument');
    const tag = data.tag('gmail', account);
    let after = Number(start);
    const raw = query.get('pageToken');
    if (raw !== null && raw !== '') {
      const token = decodeToken(raw, positionSchema);
      if (!token || token.t !== tag) return apiError(400, 'Invalid pageToken', 'invalidArgument');
      after = token.p;
    }
    if (!data.valid('gmail', account, Number(start)) || !data.valid('gmail', account, after)) return gmailNotFound();
    const wanted = query.getAll('historyTypes').flatMap((value) => value.split(','));
    const page = data.pageOfChanges('gmail', account, { after, size });
    const records = page.items
      // Records are relative to the start (sent again with every page), so a message created after it is reported as added once.
      .flatMap((item) => historyRecords(item, Number(start)))
      .filter((entry) => wanted.length === 0 || wanted.includes(entry.type))
      .sort((a, b) => a.id - b.id)
      .map((entry) => entry.record);
    const last = page.items[page.items.length - 1];
    return json({
      ...(records.length > 0 ? { history: records } : {}),
      ...(page.more && last ? { nextPageToken: encodeToken({ t: tag, p: last.seq }) } : {}),
      historyId: String(data.current('gmail', account)),
    });
  }

  function messages(request: SandboxRequest, api: GoogleApiContext, userId: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const account = grant.account;
    const size = pageSize(request.query.get('maxResults'), GOOGLE_PAGE_LIMITS.gmailMessages);
    if (size === undefined) return apiError(400, 'Invalid maxResults', 'invalidArgument');
    const tag = data.tag('gmail', account);
    const raw = request.query.get('pageToken');
    let position: number | undefined;
    if (raw !== null && raw !== '') {
      const token = decodeToken(raw, positionSchema);
      if (!token || token.t !== tag) return apiError(400, 'Invalid pageToken', 'invalidArgument');
      position = token.p;
    }
    const wanted = request.query.getAll('labelIds').flatMap((value) => value.split(','));
    const includeSpamTrash = request.query.get('includeSpamTrash') === 'true';
    const filter = (item: DataItem): boolean => {
      if (item.deleted) return false;
      const has = labels(item);
      if (!includeSpamTrash && (has.includes('SPAM') || has.includes('TRASH'))) return false;
      return wanted.every((label) => has.includes(label));
    };
    const page = data.pageByCreation('gmail', account, { position, size, descending: true, filter });
    const total = data.list('gmail', account).filter(filter).length;
    const last = page.items[page.items.length - 1];
    return json({
      ...(page.items.length > 0 ? { messages: page.items.map(ref) } : {}),
      ...(page.more && last ? { nextPageToken: encodeToken({ t: tag, p: last.created }) } : {}),
      resultSizeEstimate: total,
    });
  }

  function message(request: SandboxRequest, api: GoogleApiContext, userId: string, id: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const item = data.get('gmail', grant.account, id);
    if (!item || item.deleted) return gmailNotFound();
    const format = (request.query.get('format') ?? 'full').toLowerCase();
    const { payload, ...rest } = item.value;
    if (format === 'minimal') return json(rest);
    if (format === 'metadata' && typeof payload === 'object' && payload !== null) {
      const { body: _body, ...headersOnly } = payload as Record<string, unknown>;
      return json({ ...rest, payload: headersOnly });
    }
    return json(item.value);
  }

  function profile(request: SandboxRequest, api: GoogleApiContext, userId: string): SandboxResponse {
    const grant = gmailUser(request, api, userId);
    if ('status' in grant) return grant;
    const all = data.list('gmail', grant.account);
    return json({
      emailAddress: grant.account,
      messagesTotal: all.length,
      threadsTotal: new Set(all.map((item) => String(item.value.threadId ?? item.id))).size,
      historyId: String(data.current('gmail', grant.account)),
    });
  }

  function handle(request: SandboxRequest, api: GoogleApiContext): SandboxResponse | undefined {
    if (request.method !== 'GET') return undefined;
    const path = request.path;
    const calendar = /^\/www\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(path);
    if (calendar?.[1]) return listEvents(request, api, safeDecode(calendar[1]));
    if (path === '/www/drive/v3/changes') return driveChanges(request, api);
    if (path === '/www/drive/v3/files') return driveFiles(request, api);
    const file = /^\/www\/drive\/v3\/files\/([^/]+)$/.exec(path);
    if (file?.[1]) return driveFile(request, api, safeDecode(file[1]));
    const gmail = /^\/(?:gmail\/gmail|www\/gmail)\/v1\/users\/([^/]+)\/(history|messages|profile)(?:\/([^/]+))?$/.exec(path);
    if (gmail?.[1] && gmail[2]) {
      const userId = safeDecode(gmail[1]);
      if (gmail[2] === 'history' && gmail[3] === undefined) return history(request, api, userId);
      if (gmail[2] === 'profile' && gmail[3] === undefined) return profile(request, api, userId);
      if (gmail[2] === 'messages') return gmail[3] === undefined ? messages(request, api, userId) : message(request, api, userId, safeDecode(gmail[3]));
    }
    return undefined;
  }

  return { handle };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
