import * as z from 'zod';
import { validationFailed } from '../../shared/domain/errors';
import { integrationIdSchema } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { providerSync } from '../../shared/domain/sync-settings';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/store/cursor';
import { listRecords } from '../../shared/store/sync';

/** GET /api/integrations/{id}/records?resource=&cursor=&limit= — synced records, deletions as tombstones. */
export const handler = apiHandler({
  permission: 'integrations:read',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({
    resource: z.string().min(1).max(64),
    cursor: cursorParam,
    limit: z.coerce.number().int().min(1).max(500).default(100),
  }),
  handle: async ({ principal, params, query }) => {
    const integration = await requireVisibleIntegration(principal.orgId, params.id);
    const resources = Object.keys(providerSync(integration).resources);
    if (!resources.includes(query.resource)) throw validationFailed(`resource must be one of: ${resources.join(', ')}`);
    const page = await listRecords(principal.orgId, integration.id, query.resource, query.cursor, query.limit);
    return success({ resource: query.resource, records: page.items, nextCursor: page.nextCursor ?? null });
  },
});
