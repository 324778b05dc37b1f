import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { updateSettings } from '../../shared/domain/sync-settings';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** PATCH /api/integrations/{id}/settings `{scheduledSync?, resources?: {<resource>: boolean}}` — validated per provider. */
export const handler = apiHandler({
  permission: 'integrations:configure',
  params: z.object({ id: integrationIdSchema }),
  body: z
    .object({ scheduledSync: z.boolean().optional(), resources: z.record(z.string().max(64), z.boolean()).optional() })
    .strict()
    .refine((body) => body.scheduledSync !== undefined || body.resources !== undefined, 'Give scheduledSync or resources'),
  handle: async ({ principal, params, body }) => {
    const integration = await requireVisibleIntegration(principal.orgId, params.id);
    return success(await updateSettings(integration, body));
  },
});
