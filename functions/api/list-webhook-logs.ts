import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { webhookLogsPage, webhookLogsPageSchema } from '../../shared/domain/webhook-status';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';

/** GET /api/integrations/{id}/webhook-logs?cursor=&limit= — recent deliveries, newest first (30 days). */
export const handler = apiHandler({
  permission: 'integrations:read',
  summary: 'Recent webhook deliveries of the integration and what became of each, newest first',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({ cursor: cursorParam, limit: z.coerce.number().int().min(1).max(100).default(50) }),
  responses: { 200: webhookLogsPageSchema },
  errors: [404],
  handle: async ({ principal, params, query }) => success(await webhookLogsPage(principal.orgId, params.id, query.cursor, query.limit)),
});
