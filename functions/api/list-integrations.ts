import * as z from 'zod';
import { integrationsPage } from '../../shared/domain/history';
import { integrationViewSchema, toIntegrationView } from '../../shared/domain/integration';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/http/params';
import { providerName } from '../../shared/providers/registry';

/** GET /api/integrations — the caller's organisation's integrations, a page at a time. */
export const handler = apiHandler({
  permission: 'integrations:read',
  query: z.object({
    cursor: cursorParam,
    limit: z.coerce.number().int().min(1).max(100).default(100),
  }),
  responses: { 200: z.array(integrationViewSchema) },
  headers: { response: { 'X-Next-Cursor': z.string().optional() } },
  handle: async ({ principal, query }) => {
    const page = await integrationsPage(principal.orgId, query.cursor, query.limit);
    const response = success(page.items.map((record) => toIntegrationView(record, providerName(record.providerId))));
    // The guide's shape keeps `data` an array; the next page travels in a header.
    if (page.nextCursor !== undefined) response.headers = { ...response.headers, 'x-next-cursor': page.nextCursor };
    return response;
  },
});
