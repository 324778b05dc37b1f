import { alertListSchema, listOpenAlerts } from '../../shared/domain/alerts';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

/** GET /api/integrations/alerts — the organisation's open alerts, newest first: a settings page's banner. */
export const handler = apiHandler({
  permission: 'integrations:read',
  summary: "The organisation's open alerts (provider, integration, kind, reason, message, raised at)",
  responses: { 200: alertListSchema },
  handle: async ({ principal }) => success(await listOpenAlerts(principal.orgId)),
});
