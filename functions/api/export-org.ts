import * as z from 'zod';
import { exportPage, exportPageSchema } from '../../shared/domain/privacy';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/export?cursor= — everything held about the organisation's integrations, page by page; never a secret. */
export const handler = apiHandler({
  permission: 'integrations:export',
  query: z.object({ cursor: cursorParam }),
  responses: { 200: exportPageSchema },
  handle: async ({ principal, query }) => success(await exportPage(principal.orgId, undefined, query.cursor)),
});
