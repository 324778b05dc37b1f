import * as z from 'zod';
import { syncLogsPage, syncLogsPageSchema } from '../../shared/domain/history';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/{id}/sync-logs?cursor=&limit= — newest first. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({ cursor: cursorParam, limit: z.coerce.number().int().min(1).max(100).default(50) }),
  responses: { 200: syncLogsPageSchema },
  errors: [404],
  handle: async ({ principal, params, query }) => {
    const page = await syncLogsPage(principal.orgId, params.id, query.cursor, query.limit);
    return success({ logs: page.items, nextCursor: page.nextCursor ?? null });
  },
});
