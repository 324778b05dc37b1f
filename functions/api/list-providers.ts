import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { catalog } from '../../shared/providers/registry';

/** GET /api/integrations/providers — the catalog of providers and what each can do. */
export const handler = apiHandler({
  permission: 'integrations:read',
  handle: async () =>
    success(
      catalog().map((entry) => ({
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
