import * as z from 'zod';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
// The catalog module, not the registry: the registry loads every provider's code and with it the table client.
import { providerCatalog } from '../../shared/providers/catalog';

/** One provider as the catalog shows it. */
const catalogEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['active', 'coming_soon']),
  description: z.string(),
  features: z.array(z.string()),
  defaultScopes: z.array(z.string()),
  scopes: z.array(z.object({ scope: z.string(), description: z.string() })),
});

/** GET /api/integrations/providers — the catalog of providers and what each can do. */
export const handler = apiHandler({
  permission: 'integrations:read',
  responses: { 200: z.array(catalogEntrySchema) },
  handle: async () =>
    success(
      providerCatalog.map((entry) => ({
        id: entry.id,
        name: entry.name,
        status: entry.status,
        description: entry.description,
        features: entry.features,
        defaultScopes: entry.scopes.filter((scope) => scope.default).map((scope) => scope.scope),
        scopes: entry.scopes.map(({ scope, description }) => ({ scope, description })),
      })),
    ),
});
