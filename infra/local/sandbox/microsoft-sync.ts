import * as z from 'zod';
import { SANDBOX_PREFIX } from './clients';
import { decodeToken, encodeToken, pageSize, type DataItem, type Page, type SyncData } from './data';
import { oneDriveIds } from './data-ops';
import type { SandboxRequest, SandboxResponse } from './http';
import type { GraphApiContext } from './microsoft-push';

/**
 * Graph delta queries over the sandbox's calendar events and OneDrive items:
 *
 * - `GET /v1.0/me/calendarView/delta?startDateTime=&endDateTime=` (the window
 *   is required on the first request and kept in the links), `GET
 *   /v1.0/me/events/delta` (no window), `GET /v1.0/me/drive/root/delta`
 *   (`?token=latest` starts from now without listing).
 * - A round is pages linked by `@odata.nextLink` (absolute, `$skiptoken`);
 *   its last page has `@odata.deltaLink` (`$deltatoken`). Following the
 *   delta link returns only what changed since: items as they are now,
 *   deletions as `{id, '@removed': {reason: 'deleted'}}` (driveItems also
 *   carry `deleted: {state: 'deleted'}`); a calendarView item that changed
 *   and is no longer in the window comes as `@removed` with reason `changed`.
 * - `Prefer: odata.maxpagesize=N` is honoured (answered with
 *   `Preference-Applied`), capped at 1000; default page sizes are 10 events
 *   and 200 driveItems. `$top` works for driveItems.
 * - An invalidated or too-old delta (or skip) token → 410: events
 *   `SyncStateNotFound`, OneDrive `resyncRequired` (as Graph names them for
 *   Outlook and OneDrive). Start over without a token.
 * - Event times are read as UTC whatever their `timeZone`.
 *
 * The links point at the sandbox as the request reached it (`Host`,
 * `X-Forwarded-Proto`) under `/sandbox`, or at `SandboxOptions.publicUrl`.
 */

export const GRAPH_DELTA_PAGE_SIZES = { events: { default: 10, max: 1_000 }, onedrive: { default: 200, max: 1_000 } } as const;
export const GRAPH_SYNC_RESET_CODES = { events: 'SyncStateNotFound', onedrive: 'resyncRequired' } as const;

const RESET_MESSAGES = {
  events: 'The sync state was not found: the delta token expired or was reset. Start the synchronization again without a delta token.',
  onedrive: 'Resync required: the delta token is no longer valid. Enumerate the drive again without a token.',
} as const;

const EVENT_SCOPES = ['Calendars.Read', 'Calendars.ReadWrite', 'Calendars.ReadBasic', 'Calendars.Read.Shared', 'Calendars.ReadWrite.Shared'];
const DRIVE_SCOPES = ['Files.Read', 'Files.ReadWrite', 'Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];

const tokenSchema = z.object({
  t: z.string(),
  /** full: paging by creation after `p`, the delta token is `s`; delta: changes after `p`. */
  m: z.enum(['full', 'delta']),
  p: z.number().optional(),
  s: z.number(),
  w: z.tuple([z.number(), z.number()]).optional(),
});
type Token = z.infer<typeof tokenSchema>;

type Resource = 'events' | 'onedrive';

/** The sandbox's base URL as the request reached it. */
export function requestBaseUrl(request: SandboxRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  const host = request.headers['x-forwarded-host']?.split(',')[0]?.trim() || request.headers.host || 'localhost';
  const proto = request.headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'http';
  return `${proto}://${host}${SANDBOX_PREFIX}`;
}

/** The page size a `Prefer: odata.maxpagesize=N` asks for. */
function preferredPageSize(prefer: string | undefined): number | undefined {
  const match = /(?:^|[,;\s])odata\.maxpagesize\s*=\s*"?(\d{1,9})"?/i.exec(prefer ?? '');
  return match?.[1] ? Number(match[1]) : undefined;
}

/** Graph `dateTimeTimeZone` or an ISO string, read as UTC. */
function graphInstant(value: unknown): number | undefined {
  const raw = typeof value === 'object' && value !== null ? (value as { dateTime?: unknown }).dateTime : value;
  if (typeof raw !== 'string') return undefined;
  const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(raw) ? raw : `${raw}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface MicrosoftSync {
  /** The answer to a delta request (graphPath: the path after `/graph`), or undefined. */
  handle(request: SandboxRequest, graphPath: string, api: GraphApiContext): SandboxResponse | undefined;
}

export function createMicrosoftSync(data: SyncData, publicUrl: () => string | undefined): MicrosoftSync {
  function delta(request: SandboxRequest, api: GraphApiContext, kind: 'calendarView' | 'events' | 'drive'): SandboxResponse {
    const resource: Resource = kind === 'drive' ? 'onedrive' : 'events';
    const auth = api.authenticate(request, resource === 'events' ? EVENT_SCOPES : DRIVE_SCOPES);
    if ('status' in auth) return auth;
    const account = auth.grant.account;
    const tag = data.tag(resource, account);
    const query = request.query;
    const reset = () => api.graphError(request, 410, GRAPH_SYNC_RESET_CODES[resource], RESET_MESSAGES[resource]);

    const limits = GRAPH_DELTA_PAGE_SIZES[resource];
    const preferred = preferredPageSize(request.headers.prefer);
    const top = resource === 'onedrive' ? query.get('$top') : null;
    const size = pageSize(preferred !== undefined ? String(preferred) : top, limits);
    if (size === undefined) return api.graphError(request, 400, 'BadRequest', 'Invalid page size.');

    const skip = query.get('$skiptoken');
    const deltaRaw = query.get('$deltatoken') ?? (resource === 'onedrive' ? query.get('token') : null);
    let token: Token;
    if (skip !== null) {
      const decoded = decodeToken(skip, tokenSchema);
      if (!decoded || decoded.t !== tag) return api.graphError(request, 400, 'BadRequest', 'The skip token is not valid.');
      if (decoded.m === 'delta' && !data.valid(resource, account, decoded.p ?? decoded.s)) return reset();
      token = decoded;
    } else if (deltaRaw !== null && resource === 'onedrive' && deltaRaw === 'latest') {
      return answer(request, api, resource, kind, [], undefined, { t: tag, m: 'delta', s: data.current(resource, account) }, preferred !== undefined ? size : undefined);
    } else if (deltaRaw !== null) {
      const decoded = decodeToken(deltaRaw, tokenSchema);
      if (!decoded || decoded.t !== tag) return api.graphError(request, 400, 'BadRequest', 'The delta token is not valid.');
      if (!data.valid(resource, account, decoded.s)) return reset();
      token = { ...decoded, m: 'delta', p: decoded.s };
    } else {
      let window: [number, number] | undefined;
      if (kind === 'calendarView') {
        const start = query.get('startDateTime') ?? query.get('StartDateTime');
        const end = query.get('endDateTime') ?? query.get('EndDateTime');
        if (!start || !end) {
          return api.graphError(request, 400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
        }
        const startMs = graphInstant(start);
        const endMs = graphInstant(end);
        if (startMs === undefined || endMs === undefined) return api.graphError(request, 400, 'ErrorInvalidParameter', 'The value of the time window is not a valid date-time.');
        if (endMs <= startMs) return api.graphError(request, 400, 'ErrorInvalidParameter', 'The time window is empty: EndDateTime must be after StartDateTime.');
        window = [startMs, endMs];
      }
      token = { t: tag, m: 'full', s: data.current(resource, account), ...(window ? { w: window } : {}) };
    }

    const window = token.w;
    const inWindow = (item: DataItem): boolean => {
      if (!window) return true;
      const start = graphInstant(item.value.start);
      const end = graphInstant(item.value.end) ?? start;
      if (start === undefined || end === undefined) return true;
      return end > window[0] && start < window[1];
    };
    let page: Page;
    if (token.m === 'full') {
      page = data.pageByCreation(resource, account, { position: token.p, size, filter: (item) => !item.deleted && inWindow(item) });
    } else {
      page = data.pageOfChanges(resource, account, { after: token.p ?? token.s, size });
    }
    const values = page.items.map((item) => render(resource, account, item, inWindow(item)));
    const last = page.items[page.items.length - 1];
    const next: Token | undefined = page.more && last ? { ...token, p: token.m === 'full' ? last.created : last.seq } : undefined;
    // A full round ends with the sequence it started from; an incremental one with the latest.
    const done: Token = { t: tag, m: 'delta', s: token.m === 'full' ? token.s : data.current(resource, account), ...(window ? { w: window } : {}) };
    return answer(request, api, resource, kind, values, next, done, preferred !== undefined ? size : undefined);
  }

  function render(resource: Resource, account: string, item: DataItem, inWindow: boolean): Record<string, unknown> {
    if (resource === 'events') {
      if (item.deleted) return { '@odata.type': '#microsoft.graph.event', id: item.id, '@removed': { reason: 'deleted' } };
      if (!inWindow) return { '@odata.type': '#microsoft.graph.event', id: item.id, '@removed': { reason: 'changed' } };
      return { '@odata.type': '#microsoft.graph.event', ...item.value };
    }
    if (item.deleted) {
      const { driveId } = oneDriveIds(account);
      return {
        '@odata.type': '#microsoft.graph.driveItem',
        id: item.id,
        parentReference: { driveType: 'business', driveId },
        deleted: { state: 'deleted' },
        '@removed': { reason: 'deleted' },
      };
    }
    return { '@odata.type': '#microsoft.graph.driveItem', ...item.value };
  }

  function answer(
    request: SandboxRequest,
    api: GraphApiContext,
    resource: Resource,
    kind: 'calendarView' | 'events' | 'drive',
    value: Array<Record<string, unknown>>,
    next: Token | undefined,
    done: Token,
    applied: number | undefined,
  ): SandboxResponse {
    const path = kind === 'calendarView' ? '/v1.0/me/calendarView/delta' : kind === 'events' ? '/v1.0/me/events/delta' : '/v1.0/me/drive/root/delta';
    const link = `${requestBaseUrl(request, publicUrl())}/microsoft/graph${path}`;
    const body = {
      '@odata.context': `https://graph.microsoft.com/v1.0/$metadata#Collection(${resource === 'events' ? 'event' : 'driveItem'})`,
      ...(next ? { '@odata.nextLink': `${link}?$skiptoken=${encodeToken(next)}` } : { '@odata.deltaLink': `${link}?$deltatoken=${encodeToken(done)}` }),
      value,
    };
    const response = api.graphJson(request, 200, body);
    return applied === undefined ? response : { ...response, headers: { ...response.headers, 'preference-applied': `odata.maxpagesize=${applied}` } };
  }

  function handle(request: SandboxRequest, graphPath: string, api: GraphApiContext): SandboxResponse | undefined {
    if (request.method !== 'GET') return undefined;
    const path = graphPath.replace(/\(\)$/, '').replace(/\/+$/, '');
    if (/^\/v1\.0\/me\/calendarview\/delta$/i.test(path)) return delta(request, api, 'calendarView');
    if (/^\/v1\.0\/me\/(?:calendar\/)?events\/delta$/i.test(path)) return delta(request, api, 'events');
    if (/^\/v1\.0\/me\/drive\/root\/delta$/i.test(path)) return delta(request, api, 'drive');
    return undefined;
  }

  return { handle };
}
