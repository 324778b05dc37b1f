import * as z from 'zod';
import { defineAction } from '../actions';
import type { ActionFailure, ProviderActions } from '../types';
import { notionClient } from './client';
import { NOTION_CREDENTIAL } from './oauth';

/** What the HR platform does in Notion: onboarding documentation pages, under a page or in a database shared with it. */
const notionId = z.string().regex(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i, 'a Notion id (UUID, dashes optional)');

const createPage = defineAction({
  name: 'notion.createPage',
  credentialKind: NOTION_CREDENTIAL,
  // Notion has no OAuth scopes; this is the capability the integration needs in its settings.
  requiredScope: 'insert_content',
  client: notionClient,
  input: z
    .object({
      parent: z.union([z.object({ pageId: notionId }).strict(), z.object({ databaseId: notionId }).strict()]),
      title: z.string().min(1).max(2_000),
      /** Paragraphs of text, one block each (Notion caps a block's text at 2,000 characters and a request at 100 blocks). */
      content: z.array(z.string().max(2_000)).max(100).optional(),
    })
    .strict(),
  run: async (client, accessToken, input) => {
    const page = await client.createPage(accessToken, { parent: input.parent, title: input.title, ...(input.content ? { paragraphs: input.content } : {}) });
    return { ids: { pageId: page.id }, ...(page.url ? { details: { url: page.url } } : {}) };
  },
});

const FAILURES: Readonly<Record<string, ActionFailure>> = { object_not_found: 'not_found', restricted_resource: 'missing_scope' };

export const notionActions: ProviderActions = {
  list: [createPage],
  failureOf: (code) => FAILURES[code],
};
