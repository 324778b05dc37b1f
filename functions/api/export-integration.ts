import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { exportPage, exportPageSchema } from '../../shared/domain/privacy';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/{id}/export?cursor= — one integration's data, page by page; never a secret. */
export const handler = apiHandler({
  permission: 'integrations:export',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({ cursor: cursorParam }),
  responses: { 200: exportPageSchema },
  errors: [404],
  handle: async ({ principal, params, query }) => success(await exportPage(principal.orgId, params.id, query.cursor)),
});
