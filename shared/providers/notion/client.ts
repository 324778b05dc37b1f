import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import type { ProviderResponse } from '../../oauth/http';
import type { ProviderProbe } from '../types';
import { apiCall, parseProviderResponse, providerHost, type ApiBody, type RetryOptions } from '../api-call';
import { NOTION_CREDENTIAL, notionHeaders, notionOAuth } from './oauth';

/**
 * Notion API calls (with `Notion-Version`). Errors are `{object:'error',
 * status, code, message}`: the code is kept (`object_not_found`,
 * `validation_error`, `restricted_resource`…); 401 `unauthorized` refreshes
 * once; 429 `rate_limited` carries Retry-After.
 */
const PROVIDER = 'notion';

const notionError = z.object({ code: z.string().min(1) });

export function notionErrorFrom(response: Pick<ProviderResponse, 'status' | 'json'>): ProviderError {
  const parsed = notionError.safeParse(response.json);
  return new ProviderError(PROVIDER, parsed.success ? parsed.data.code : `http_${response.status}`, response.status, response.status === 401 ? 'unauthorized' : 'rejected');
}

const titlePart = z.object({ plain_text: z.string() });
export const notionObjectSchema = z.looseObject({
  object: z.enum(['page', 'database']),
  id: z.string().min(1),
  created_time: z.string(),
  last_edited_time: z.string(),
  in_trash: z.boolean().optional(),
  archived: z.boolean().optional(),
  url: z.string().optional(),
  parent: z.looseObject({ type: z.string() }).optional(),
  /** Databases carry their title here; pages in their title property. */
  title: z.array(titlePart).optional(),
  properties: z.record(z.string(), z.looseObject({ type: z.string().optional(), title: z.unknown().optional() })).optional(),
});
export type NotionObject = z.infer<typeof notionObjectSchema>;
const searchPage = z.object({ results: z.array(notionObjectSchema), next_cursor: z.string().nullable(), has_more: z.boolean() });

/** The plain-text title of a page or database. */
export function titleOf(object: NotionObject): string {
  const parts = object.title ?? z.array(titlePart).catch([]).parse(Object.values(object.properties ?? {}).find((property) => property.type === 'title')?.title);
  return parts.map((part) => part.plain_text).join('');
}

export interface NotionPageInput {
  parent: { pageId: string } | { databaseId: string };
  title: string;
  /** Paragraph texts, one block each. */
  paragraphs?: string[];
}

export interface NotionClient {
  /** One page of pages or databases shared with the integration, most recently edited first. */
  search(accessToken: string, input: { object: 'page' | 'database'; startCursor?: string; pageSize?: number }): Promise<{ results: NotionObject[]; nextCursor: string | undefined }>;
  createPage(accessToken: string, page: NotionPageInput): Promise<NotionObject>;
  me(accessToken: string): Promise<void>;
}

export function createNotionClient(retry: RetryOptions = {}): NotionClient {
  const call = <T>(accessToken: string, method: 'GET' | 'POST', path: string, read: (response: ProviderResponse) => T, body?: ApiBody, acts = false) =>
    apiCall(
      {
        providerId: PROVIDER,
        method,
        url: `${providerHost(PROVIDER, notionOAuth, 'api')}/v1${path}`,
        accessToken,
        read,
        headers: notionHeaders,
        rateLimitCode: 'rate_limited',
        acts,
        ...(body ? { body } : {}),
      },
      retry,
    );
  const ok =
    <S extends z.ZodType>(schema: S, what: string) =>
    (response: ProviderResponse): z.infer<S> => {
      if (response.status !== 200) throw notionErrorFrom(response);
      return parseProviderResponse(PROVIDER, schema, response.json, what);
    };

  return {
    async search(accessToken, input) {
      const page = await call(
        accessToken,
        'POST',
        '/search',
        ok(searchPage, 'search results'),
        {
          json: {
            filter: { property: 'object', value: input.object },
            sort: { direction: 'descending', timestamp: 'last_edited_time' },
            page_size: input.pageSize ?? 100,
            ...(input.startCursor ? { start_cursor: input.startCursor } : {}),
          },
        },
      );
      return { results: page.results, nextCursor: page.next_cursor ?? undefined };
    },
    createPage: (accessToken, page) =>
      call(
        accessToken,
        'POST',
        '/pages',
        ok(notionObjectSchema, 'page'),
        {
          json: {
            parent: 'pageId' in page.parent ? { page_id: page.parent.pageId } : { database_id: page.parent.databaseId },
            // `title` is the id of every page's and database's title property.
            properties: { title: { title: [{ text: { content: page.title } }] } },
            children: (page.paragraphs ?? []).map((text) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: text } }] } })),
          },
        },
        true,
      ),
    async me(accessToken) {
      await call(accessToken, 'GET', '/users/me', ok(z.unknown(), 'bot user'));
    },
  };
}

export const notionClient: NotionClient = createNotionClient();

/** Health check: `/users/me` (the integration's bot) with the stored token. */
export const notionProbe: ProviderProbe = {
  credentialKind: NOTION_CREDENTIAL,
  run: (accessToken) => notionClient.me(accessToken),
};
