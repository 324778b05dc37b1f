import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { effectiveSettings, syncSettingsSchema } from '../../shared/domain/sync-settings';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** GET /api/integrations/{id}/settings — scheduled sync on/off and each resource's switch. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  responses: { 200: syncSettingsSchema },
  errors: [404],
  handle: async ({ principal, params }) => success(effectiveSettings(await requireVisibleIntegration(principal.orgId, params.id))),
});
