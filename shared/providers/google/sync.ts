import * as z from 'zod';
import { apiCall, parseProviderResponse } from '../api-call';
import type { ProviderResponse } from '../../oauth/http';
import type { OAuthClient } from '../../oauth/types';
import { CursorResetError, type PullPage, type ProviderSync, type RecordChange } from '../../sync/types';
import { googleErrorFrom } from './client';

/**
 * Google incremental sync. Cursors are `<phase>|<token>[|<page>]` strings:
 * - Calendar: a full listing ends with `nextSyncToken`; later passes send
 *   `syncToken` (410 → full resync); `page|` continues a pass.
 * - Drive: a full pass lists files from a start page token taken first,
 *   then `changes.list` from that token (`newStartPageToken` ends a pass).
 * - Gmail: a full pass lists message ids from the profile's historyId, then
 *   `history.list` from it (404: too old → full resync).
 */
async function get<S extends z.ZodType>(accessToken: string, url: string, schema: S, resource: string, resetOn: number[]): Promise<z.infer<S>> {
  return apiCall({
    providerId: 'google',
    method: 'GET',
    url,
    accessToken,
    rateLimitCode: 'rateLimitExceeded',
    read: (response: ProviderResponse) => {
      if (resetOn.includes(response.status)) throw new CursorResetError(resource);
      if (response.status >= 400) throw googleErrorFrom(response);
      return parseProviderResponse('google', schema, response.json, `${resource} page`);
    },
  });
}

const qs = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();

const calendarPage = z.object({
  items: z.array(z.looseObject({ id: z.string(), status: z.string().optional(), summary: z.string().optional(), updated: z.string().optional(), start: z.unknown().optional(), end: z.unknown().optional(), htmlLink: z.string().optional() })).default([]),
  nextPageToken: z.string().optional(),
  nextSyncToken: z.string().optional(),
});

async function pullCalendar(client: OAuthClient, accessToken: string, cursor: string | undefined): Promise<PullPage> {
  const [phase, token] = cursor?.split('|') ?? [];
  const base = `${client.hosts.www}/calendar/v3/calendars/primary/events`;
  const params = { maxResults: '250', showDeleted: 'true', ...(phase === 'sync' ? { syncToken: token } : phase === 'page' ? { pageToken: token } : {}) };
  const page = await get(accessToken, `${base}?${qs(params)}`, calendarPage, 'calendar', [410]);
  const changes: RecordChange[] = page.items.map((event) =>
    event.status === 'cancelled'
      ? { externalId: event.id, op: 'delete' }
      : { externalId: event.id, op: 'upsert', data: { summary: event.summary ?? null, status: event.status ?? null, start: event.start ?? null, end: event.end ?? null, updated: event.updated ?? null, htmlLink: event.htmlLink ?? null } },
  );
  if (page.nextPageToken) return { changes, cursor: `page|${page.nextPageToken}`, complete: false };
  return { changes, cursor: page.nextSyncToken ? `sync|${page.nextSyncToken}` : undefined, complete: true };
}

const startToken = z.object({ startPageToken: z.string() });
const filesPage = z.object({
  files: z.array(z.looseObject({ id: z.string(), name: z.string().optional(), mimeType: z.string().optional(), modifiedTime: z.string().optional(), trashed: z.boolean().optional() })).default([]),
  nextPageToken: z.string().optional(),
});
const changesPage = z.object({
  changes: z.array(z.looseObject({ fileId: z.string().optional(), removed: z.boolean().optional(), file: z.looseObject({ id: z.string(), name: z.string().optional(), mimeType: z.string().optional(), modifiedTime: z.string().optional(), trashed: z.boolean().optional() }).optional() })).default([]),
  nextPageToken: z.string().optional(),
  newStartPageToken: z.string().optional(),
});

const fileData = (file: { name?: string | undefined; mimeType?: string | undefined; modifiedTime?: string | undefined }) => ({
  name: file.name ?? null,
  mimeType: file.mimeType ?? null,
  modifiedTime: file.modifiedTime ?? null,
});

async function pullDrive(client: OAuthClient, accessToken: string, cursor: string | undefined): Promise<PullPage> {
  const api = `${client.hosts.www}/drive/v3`;
  const [phase, token, filesPageToken] = cursor?.split('|') ?? [];
  if (phase === 'changes' && token) {
    const page = await get(accessToken, `${api}/changes?${qs({ pageToken: token, pageSize: '200' })}`, changesPage, 'drive', [404, 410]);
    const changes: RecordChange[] = page.changes.flatMap((change): RecordChange[] => {
      const id = change.fileId ?? change.file?.id;
      if (!id) return [];
      return change.removed || change.file?.trashed ? [{ externalId: id, op: 'delete' }] : [{ externalId: id, op: 'upsert', data: fileData(change.file ?? {}) }];
    });
    if (page.nextPageToken) return { changes, cursor: `changes|${page.nextPageToken}`, complete: false };
    return { changes, cursor: `changes|${page.newStartPageToken ?? token}`, complete: true };
  }
  // Full pass: the change feed's start token is taken before listing, so nothing changed meanwhile is missed.
  const start = phase === 'files' && token ? token : (await get(accessToken, `${api}/changes/startPageToken`, startToken, 'drive', [])).startPageToken;
  const page = await get(accessToken, `${api}/files?${qs({ pageSize: '200', pageToken: filesPageToken, fields: 'nextPageToken,files(id,name,mimeType,modifiedTime,trashed)' })}`, filesPage, 'drive', []);
  const changes: RecordChange[] = page.files.map((file) => (file.trashed ? { externalId: file.id, op: 'delete' } : { externalId: file.id, op: 'upsert', data: fileData(file) }));
  if (page.nextPageToken) return { changes, cursor: `files|${start}|${page.nextPageToken}`, complete: false };
  return { changes, cursor: `changes|${start}`, complete: true };
}

const profile = z.object({ historyId: z.union([z.string(), z.number()]).transform(String) });
const messagesPage = z.object({ messages: z.array(z.looseObject({ id: z.string(), threadId: z.string().optional() })).default([]), nextPageToken: z.string().optional() });
const historyPage = z.object({
  history: z.array(z.looseObject({ id: z.union([z.string(), z.number()]).optional(), messagesAdded: z.array(z.object({ message: z.looseObject({ id: z.string(), threadId: z.string().optional() }) })).optional(), messagesDeleted: z.array(z.object({ message: z.looseObject({ id: z.string() }) })).optional() })).default([]),
  historyId: z.union([z.string(), z.number()]).transform(String).optional(),
  nextPageToken: z.string().optional(),
});

async function pullGmail(client: OAuthClient, accessToken: string, cursor: string | undefined): Promise<PullPage> {
  const api = `${client.hosts.gmail}/gmail/v1/users/me`;
  const [phase, token, pageToken] = cursor?.split('|') ?? [];
  if (phase === 'history' && token) {
    const page = await get(accessToken, `${api}/history?${qs({ startHistoryId: token, pageToken, maxResults: '500' })}`, historyPage, 'gmail', [404]);
    const changes: RecordChange[] = page.history.flatMap((entry) => [
      ...(entry.messagesAdded ?? []).map((added): RecordChange => ({ externalId: added.message.id, op: 'upsert', data: { threadId: added.message.threadId ?? null } })),
      ...(entry.messagesDeleted ?? []).map((deleted): RecordChange => ({ externalId: deleted.message.id, op: 'delete' })),
    ]);
    if (page.nextPageToken) return { changes, cursor: `history|${token}|${page.nextPageToken}`, complete: false };
    return { changes, cursor: `history|${page.historyId ?? token}`, complete: true };
  }
  const start = phase === 'messages' && token ? token : (await get(accessToken, `${api}/profile`, profile, 'gmail', [])).historyId;
  const page = await get(accessToken, `${api}/messages?${qs({ maxResults: '500', pageToken })}`, messagesPage, 'gmail', []);
  const changes: RecordChange[] = page.messages.map((message) => ({ externalId: message.id, op: 'upsert', data: { threadId: message.threadId ?? null } }));
  if (page.nextPageToken) return { changes, cursor: `messages|${start}|${page.nextPageToken}`, complete: false };
  return { changes, cursor: `history|${start}`, complete: true };
}

export const googleSync: ProviderSync = {
  credentialKind: 'oauth',
  resources: {
    calendar: { keepCursorAfterPass: true, pull: ({ client, accessToken, cursor }) => pullCalendar(client, accessToken, cursor) },
    drive: { keepCursorAfterPass: true, pull: ({ client, accessToken, cursor }) => pullDrive(client, accessToken, cursor) },
    gmail: { keepCursorAfterPass: true, pull: ({ client, accessToken, cursor }) => pullGmail(client, accessToken, cursor) },
  },
};
