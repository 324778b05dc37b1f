import * as z from 'zod';
import { consentsPage, consentsPageSchema } from '../../shared/domain/history';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/{id}/consents — the consent history, newest first: who, when, scopes, IP, user agent, version. */
export const handler = apiHandler({
  permission: 'integrations:export',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({ cursor: cursorParam }),
  responses: { 200: consentsPageSchema },
  errors: [404],
  handle: async ({ principal, params, query }) => {
    const page = await consentsPage(principal.orgId, params.id, query.cursor);
    return success({ consents: page.items, nextCursor: page.nextCursor ?? null });
  },
});
