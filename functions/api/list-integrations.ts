import * as z from 'zod';
import { toIntegrationView } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { providerName } from '../../shared/providers/registry';
import { cursorParam } from '../../shared/store/cursor';
import { listIntegrations } from '../../shared/store/integrations';

/** GET /api/integrations — the caller's organisation's integrations, a page at a time. */
export const handler = apiHandler({
  permission: 'integrations:read',
  query: z.object({
    cursor: cursorParam,
    limit: z.coerce.number().int().min(1).max(100).default(100),
  }),
  handle: async ({ principal, query }) => {
    const page = await listIntegrations(principal.orgId, query.cursor, query.limit);
    const visible = page.items.filter((record) => record.status !== 'erased');
    const response = success(visible.map((record) => toIntegrationView(record, providerName(record.providerId))));
    // The guide's shape keeps `data` an array; the next page travels in a header.
    if (page.nextCursor !== undefined) response.headers = { ...response.headers, 'x-next-cursor': page.nextCursor };
    return response;
  },
});
