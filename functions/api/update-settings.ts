import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { syncSettingsSchema, updateSettings } from '../../shared/domain/sync-settings';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/**
 * `{<resource>: boolean}`, a resource named like `users` or `onedrive`. The raw
 * keys are checked first: a record schema silently drops `__proto__`, which
 * must be refused, not ignored.
 */
const RESOURCE_NAME = /^[a-z][a-z0-9_-]{0,63}$/i;
const resourceSwitches = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).every((name) => RESOURCE_NAME.test(name)),
    'must map resource names such as users to true or false',
  )
  .pipe(z.record(z.string(), z.boolean()));

/** PATCH /api/integrations/{id}/settings `{scheduledSync?, resources?: {<resource>: boolean}}` — validated per provider. */
export const handler = apiHandler({
  permission: 'integrations:configure',
  params: z.object({ id: integrationIdSchema }),
  body: z
    .object({ scheduledSync: z.boolean().optional(), resources: resourceSwitches.optional() })
    .strict()
    .refine((body) => body.scheduledSync !== undefined || body.resources !== undefined, 'Give scheduledSync or resources'),
  responses: { 200: syncSettingsSchema },
  errors: [404, 409],
  handle: async ({ principal, params, body }) => {
    const integration = await requireVisibleIntegration(principal.orgId, params.id);
    return success(await updateSettings(integration, body));
  },
});
