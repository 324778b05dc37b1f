import * as z from 'zod';
import { bearerToken, jsonResponse, parseBody, type SandboxRequest, type SandboxResponse } from './http';
import { notionError } from './notion-oauth';
import { notionWorkspaceId, type NotionData, type NotionObject } from './notion-data';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Notion's API as the app uses it: `POST /v1/search` (pages and databases
 * shared with the integration, sorted by `last_edited_time`, cursor paged,
 * `page_size` 1–100), `POST /v1/pages` (a page under a page or database, with
 * paragraph-like blocks), `GET /v1/pages/{id}` and `GET /v1/users/me` (the
 * bot). Times are ISO with minute precision, as Notion rounds
 * `last_edited_time`. A search cursor from before `invalidate-cursors` is a
 * 400 `validation_error`. Trashed pages stay visible to search with
 * `in_trash: true` until purged, which is what lets a sync see deletions.
 */
export const NOTION_PAGE_SIZE = { default: 100, max: 100 } as const;

const minute = (ms: number) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString();
const richText = (content: string) => [{ type: 'text', text: { content, link: null }, plain_text: content, href: null, annotations: { bold: false, italic: false, strikethrough: false, underline: false, code: false, color: 'default' } }];

const searchBody = z.object({
  query: z.string().optional(),
  filter: z.object({ property: z.literal('object'), value: z.enum(['page', 'database', 'data_source']) }).optional(),
  sort: z.object({ direction: z.enum(['ascending', 'descending']), timestamp: z.literal('last_edited_time') }).optional(),
  start_cursor: z.string().optional(),
  page_size: z.number().int().min(1).max(NOTION_PAGE_SIZE.max).optional(),
});

const textBlock = z.object({ rich_text: z.array(z.object({ text: z.object({ content: z.string().max(2000) }) })) });
const BLOCK_TYPES = ['paragraph', 'heading_1', 'heading_2', 'heading_3', 'bulleted_list_item', 'numbered_list_item', 'to_do'] as const;
/** A text block of one of BLOCK_TYPES: `{type?, <type>: {rich_text}}`; its text is what the fake keeps. */
const block = z
  .record(z.string(), z.unknown())
  .transform((value, context) => {
    const type = BLOCK_TYPES.find((candidate) => value[candidate] !== undefined);
    const text = type ? textBlock.safeParse(value[type]) : undefined;
    if (!text?.success) {
      context.addIssue({ code: 'custom', message: `each child must be one of ${BLOCK_TYPES.join(', ')} with rich_text` });
      return z.NEVER;
    }
    return text.data.rich_text.map((part) => part.text.content).join('');
  });
const createPageBody = z.object({
  parent: z.union([z.object({ page_id: z.string() }), z.object({ database_id: z.string() })]),
  properties: z.record(z.string(), z.object({ title: z.array(z.object({ text: z.object({ content: z.string() }) })) }).partial()),
  children: z.array(block).max(100).optional(),
});

export function createNotionApi(store: SandboxStore, data: NotionData) {
  function authenticate(request: SandboxRequest): { grant: GrantRecord } | SandboxResponse {
    const raw = bearerToken(request.headers);
    const found = raw ? store.lookupToken('notion', raw) : { status: 'unknown' as const };
    if (found.status !== 'active' || found.token.kind !== 'access') return notionError(401, 'unauthorized', 'API token is invalid.');
    return { grant: found.grant };
  }

  function objectJson(object: NotionObject): Record<string, unknown> {
    const parent = object.parentId ? { type: 'page_id', page_id: object.parentId } : { type: 'workspace', workspace: true };
    const common = {
      object: object.object,
      id: object.id,
      created_time: minute(object.createdTime),
      last_edited_time: minute(object.lastEditedTime),
      in_trash: object.inTrash,
      archived: object.inTrash,
      parent,
      url: `https://www.notion.so/${object.id.replace(/-/g, '')}`,
    };
    return object.object === 'page'
      ? { ...common, properties: { title: { id: 'title', type: 'title', title: richText(object.title) } } }
      : { ...common, title: richText(object.title), properties: { Name: { id: 'title', name: 'Name', type: 'title', title: {} } } };
  }

  /** Cursors carry the epoch they were issued in and their position. */
  const cursorOf = (index: number) => Buffer.from(JSON.stringify({ i: index, e: data.state.cursorEpoch })).toString('base64url');
  function positionOf(cursor: string): number | undefined {
    try {
      const parsed = z.object({ i: z.number().int().min(0), e: z.number() }).parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
      return parsed.e === data.state.cursorEpoch ? parsed.i : undefined;
    } catch {
      return undefined;
    }
  }

  function jsonBody(request: SandboxRequest): unknown {
    const body = parseBody(request);
    return body.kind === 'json' ? body.value : body.kind === 'empty' ? {} : Symbol.for('invalid');
  }

  function search(request: SandboxRequest, grant: GrantRecord): SandboxResponse {
    const raw = jsonBody(request);
    if (typeof raw === 'symbol') return notionError(400, 'invalid_json', 'Error parsing JSON body.');
    const parsed = searchBody.safeParse(raw);
    if (!parsed.success) return notionError(400, 'validation_error', `body failed validation: ${z.prettifyError(parsed.error)}`);
    const input = parsed.data;
    const wanted = input.filter?.value === 'data_source' ? 'database' : input.filter?.value;
    const direction = input.sort?.direction === 'ascending' ? 1 : -1;
    const query = input.query?.toLowerCase();
    const items = data
      .objectsOf(notionWorkspaceId(grant.account))
      .filter((object) => (wanted === undefined || object.object === wanted) && (query === undefined || object.title.toLowerCase().includes(query)))
      .sort((a, b) => direction * (a.lastEditedTime - b.lastEditedTime) || a.id.localeCompare(b.id));
    const start = input.start_cursor === undefined ? 0 : positionOf(input.start_cursor);
    if (start === undefined) return notionError(400, 'validation_error', 'body failed validation: body.start_cursor should be a valid cursor.');
    const size = input.page_size ?? NOTION_PAGE_SIZE.default;
    const end = start + size;
    return jsonResponse(200, {
      object: 'list',
      results: items.slice(start, end).map(objectJson),
      next_cursor: end < items.length ? cursorOf(end) : null,
      has_more: end < items.length,
      type: 'page_or_database',
      page_or_database: {},
      request_id: crypto.randomUUID(),
    });
  }

  function createPage(request: SandboxRequest, grant: GrantRecord): { response: SandboxResponse; created?: NotionObject } {
    const raw = jsonBody(request);
    if (typeof raw === 'symbol') return { response: notionError(400, 'invalid_json', 'Error parsing JSON body.') };
    const parsed = createPageBody.safeParse(raw);
    if (!parsed.success) return { response: notionError(400, 'validation_error', `body failed validation: ${z.prettifyError(parsed.error)}`) };
    const input = parsed.data;
    const parentId = 'page_id' in input.parent ? input.parent.page_id : input.parent.database_id;
    const workspace = notionWorkspaceId(grant.account);
    const parent = data.objectsOf(workspace).find((object) => object.id === parentId && !object.inTrash);
    const expected = 'page_id' in input.parent ? 'page' : 'database';
    if (!parent || parent.object !== expected) {
      return { response: notionError(404, 'object_not_found', `Could not find ${expected} with ID: ${parentId}. Make sure the relevant pages and databases are shared with your integration.`) };
    }
    const title = Object.values(input.properties).find((property) => property.title)?.title?.map((part) => part.text.content).join('');
    if (title === undefined) return { response: notionError(400, 'validation_error', 'body failed validation: a title property is required.') };
    const created = data.add(workspace, 'page', title, parent.id, input.children ?? []);
    return { response: jsonResponse(200, objectJson(created)), created };
  }

  return { authenticate, search, createPage, objectJson };
}
