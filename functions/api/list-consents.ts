import * as z from 'zod';
import { integrationIdSchema } from '../../shared/domain/integration';
import { requireVisibleIntegration } from '../../shared/domain/lifecycle';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { cursorParam } from '../../shared/store/cursor';
import { listConsents } from '../../shared/store/consents';

/** GET /api/integrations/{id}/consents — the consent history, newest first: who, when, scopes, IP, user agent, version. */
export const handler = apiHandler({
  permission: 'integrations:export',
  params: z.object({ id: integrationIdSchema }),
  query: z.object({ cursor: cursorParam }),
  handle: async ({ principal, params, query }) => {
    const integration = await requireVisibleIntegration(principal.orgId, params.id);
    const page = await listConsents(principal.orgId, integration.id, query.cursor);
    return success({ consents: page.items, nextCursor: page.nextCursor ?? null });
  },
});
