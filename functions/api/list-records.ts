import * as z from 'zod';
import { recordsPage, recordsPageSchema } from '../../shared/domain/history';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/{id}/records?resource=&cursor=&limit= — synced records, deletions as tombstones. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({
    resource: z.string().min(1).max(64),
    cursor: cursorParam,
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
  responses: { 200: recordsPageSchema },
  errors: [404, 409],
  handle: async ({ principal, params, query }) => {
    const page = await recordsPage(principal.orgId, params.id, query.resource, query.cursor, query.limit);
    return success({ resource: query.resource, records: page.items, nextCursor: page.nextCursor ?? null });
  },
});
