import * as z from 'zod';
import { apiCall, parseProviderResponse } from '../api-call';
import { ProviderError } from '../../oauth/errors';
import type { ProviderResponse } from '../../oauth/http';
import type { OAuthClient } from '../../oauth/types';
import { CursorResetError, type PullPage, type ProviderSync, type RecordChange } from '../../sync/types';

/**
 * Microsoft Graph delta queries: pages linked by `@odata.nextLink`, a pass
 * ended by `@odata.deltaLink` (kept as the cursor: the next pass returns only
 * changes); removed items carry `@removed`; 410 (sync state gone) → full resync.
 * Calendar events are synced over a window from 30 days back to a year ahead.
 */
const deltaPage = z.object({
  value: z.array(z.looseObject({ id: z.string(), '@removed': z.unknown().optional(), deleted: z.unknown().optional() })).default([]),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});

function graphError(response: ProviderResponse): ProviderError {
  const code = (response.json as { error?: { code?: string } } | undefined)?.error?.code ?? `http_${response.status}`;
  return new ProviderError('microsoft', code, response.status, response.status === 401 ? 'unauthorized' : 'rejected');
}

async function pullDelta(client: OAuthClient, accessToken: string, cursor: string | undefined, resource: string, firstUrl: () => string, data: (item: Record<string, unknown>) => Record<string, unknown>): Promise<PullPage> {
  // A stored link must point at the configured Graph host: never follow a cursor elsewhere with our token.
  const url = cursor && cursor.startsWith(`${client.hosts.graph}/`) ? cursor : firstUrl();
  const page = await apiCall({
    providerId: 'microsoft',
    method: 'GET',
    url,
    accessToken,
    rateLimitCode: 'TooManyRequests',
    read: (response: ProviderResponse) => {
      if (response.status === 410) throw new CursorResetError(resource);
      if (response.status >= 400) throw graphError(response);
      return parseProviderResponse('microsoft', deltaPage, response.json, `${resource} delta page`);
    },
  });
  const changes: RecordChange[] = page.value.map((item) =>
    item['@removed'] !== undefined || item.deleted !== undefined ? { externalId: item.id, op: 'delete' } : { externalId: item.id, op: 'upsert', data: data(item) },
  );
  if (page['@odata.nextLink']) return { changes, cursor: page['@odata.nextLink'], complete: false };
  return { changes, cursor: page['@odata.deltaLink'], complete: true };
}

const pick = (item: Record<string, unknown>, fields: string[]) => Object.fromEntries(fields.map((field) => [field, item[field] ?? null]));

export const microsoftSync: ProviderSync = {
  credentialKind: 'oauth',
  resources: {
    events: {
      keepCursorAfterPass: true,
      pull: ({ client, accessToken, cursor }) =>
        pullDelta(
          client,
          accessToken,
          cursor,
          'events',
          () => {
            const from = new Date(Date.now() - 30 * 86_400_000).toISOString();
            const to = new Date(Date.now() + 365 * 86_400_000).toISOString();
            return `${client.hosts.graph}/v1.0/me/calendarView/delta?${new URLSearchParams({ startDateTime: from, endDateTime: to })}`;
          },
          (item) => pick(item, ['subject', 'start', 'end', 'isCancelled', 'webLink', 'lastModifiedDateTime']),
        ),
    },
    onedrive: {
      keepCursorAfterPass: true,
      pull: ({ client, accessToken, cursor }) =>
        pullDelta(client, accessToken, cursor, 'onedrive', () => `${client.hosts.graph}/v1.0/me/drive/root/delta`, (item) =>
          pick(item, ['name', 'size', 'lastModifiedDateTime', 'webUrl', 'file', 'folder']),
        ),
    },
  },
};
