import * as z from 'zod';
import { handleCallback, type CallbackOutcome } from '../../shared/domain/callback';
import { defaultReturnUrl } from '../../shared/domain/connect';
import { logger } from '../../shared/logging/logger';
import { apiHandler } from '../../shared/http/api-handler';
import { redirect } from '../../shared/http/envelope';

/**
 * GET /api/integrations/callback/{providerId} — public: the provider sends the
 * browser here. The single-use state authenticates it. The grant is kept
 * pending and the browser goes back to the HR app with `pending` (which the
 * initiator completes with `POST /api/integrations/connect/complete`), or `error`.
 */
const loose = z.string().max(4096).optional().catch(undefined);

export const handler = apiHandler({
  permission: 'public',
  params: z.object({ providerId: z.string().max(64).catch('') }),
  query: z.object({ state: loose, code: loose, error: loose }),
  responses: { 302: 'redirect' },
  handle: async ({ params, query, event }) => {
    const outcome: CallbackOutcome = await handleCallback({
      providerId: params.providerId,
      ...(query.state ? { state: query.state } : {}),
      ...(query.code ? { code: query.code } : {}),
      ...(query.error ? { error: query.error } : {}),
      ipAddress: event.requestContext.http.sourceIp,
      userAgent: event.requestContext.http.userAgent,
    }).catch((error: unknown) => {
      // The browser always goes back to the app; the failure is logged, never shown.
      logger.error('Completing the connection failed', { error });
      return { ok: false as const, error: 'server_error', redirectTo: defaultReturnUrl() };
    });
    const target = new URL(outcome.redirectTo);
    if (outcome.ok) {
      target.searchParams.set('pending', outcome.pendingId);
      target.searchParams.set('provider', outcome.providerId);
    } else {
      target.searchParams.set('error', outcome.error);
    }
    return redirect(target.toString());
  },
});
