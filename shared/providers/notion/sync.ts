import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import { CursorResetError, type ProviderSync, type ResourceSync } from '../../sync/types';
import { notionClient, titleOf, type NotionObject } from './client';
import { NOTION_CREDENTIAL } from './oauth';

/**
 * Notion sync: the pages and the databases shared with the integration,
 * through `search` sorted by `last_edited_time`, newest first. A pass reads
 * until it reaches what the previous pass had seen: the cursor keeps the
 * newest `last_edited_time` of the last complete pass as the mark, and the
 * next pass stops at items edited before it (less a minute: Notion rounds
 * the time to the minute, so the items of the mark's minute are read again,
 * harmlessly). Trashed items become tombstones. A page merely unshared from
 * the integration stops appearing and is not seen as deleted until a full
 * resync. A search cursor Notion no longer accepts starts the pass again in full.
 */
const MARK_SLACK_MS = 60_000;

const cursorSchema = z.object({ mark: z.iso.datetime().optional(), newest: z.iso.datetime().optional(), start: z.string().optional() });

function decode(cursor: string | undefined): z.infer<typeof cursorSchema> {
  if (cursor === undefined) return {};
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(cursor));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

const recordOf = (object: NotionObject) => ({
  title: titleOf(object),
  url: object.url ?? null,
  parentType: object.parent?.type ?? null,
  createdTime: object.created_time,
  lastEditedTime: object.last_edited_time,
});

function resource(object: 'page' | 'database', name: string): ResourceSync {
  return {
    keepCursorAfterPass: true,
    async pull({ accessToken, cursor }) {
      const state = decode(cursor);
      let page;
      try {
        page = await notionClient.search(accessToken, { object, ...(state.start ? { startCursor: state.start } : {}) });
      } catch (error) {
        if (state.start && error instanceof ProviderError && error.code === 'validation_error') throw new CursorResetError(name);
        throw error;
      }
      const stopBefore = state.mark ? Date.parse(state.mark) - MARK_SLACK_MS : undefined;
      const fresh = stopBefore === undefined ? page.results : page.results.filter((item) => Date.parse(item.last_edited_time) >= stopBefore);
      const newest = [state.newest, ...fresh.map((item) => new Date(Date.parse(item.last_edited_time)).toISOString())]
        .filter((time): time is string => time !== undefined)
        .sort()
        .at(-1);
      const changes = fresh.map((item) =>
        item.in_trash || item.archived ? { externalId: item.id, op: 'delete' as const } : { externalId: item.id, op: 'upsert' as const, data: recordOf(item) },
      );
      const reachedMark = fresh.length < page.results.length;
      if (page.nextCursor && !reachedMark) return { changes, cursor: JSON.stringify({ ...state, newest, start: page.nextCursor }), complete: false };
      const mark = newest ?? state.mark;
      return { changes, cursor: JSON.stringify(mark ? { mark } : {}), complete: true };
    },
  };
}

export const notionSync: ProviderSync = {
  credentialKind: NOTION_CREDENTIAL,
  resources: { pages: resource('page', 'pages'), databases: resource('database', 'databases') },
};
