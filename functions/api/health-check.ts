import * as z from 'zod';
import { healthCheckResultSchema, runHealthCheck } from '../../shared/domain/health-check';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** POST /api/integrations/{id}/health-check — a live probe with the stored token; health follows its outcome. */
export const handler = apiHandler({
  permission: 'integrations:sync',
  summary: "A cheap live call with the integration's token; health is updated from its outcome",
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: healthCheckResultSchema },
  errors: [404, 409],
  handle: async ({ principal, params }) => success(await runHealthCheck(principal.orgId, params.id)),
});
