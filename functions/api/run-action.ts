import * as z from 'zod';
import { actionOutcomeSchema, findIntegrationAction, runIntegrationAction } from '../../shared/domain/actions';
import { validationFailed } from '../../shared/domain/errors';
import { integrationIdSchema } from '../../shared/domain/integration';
import { apiHandler, summarizeIssues } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';

const idempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'must be 1 to 255 printable ASCII characters')
  .optional();

/**
 * POST /api/integrations/{id}/actions/{action} — runs one provider action
 * (`slack.sendMessage`, `google.createCalendarEvent`…) with the integration's
 * token; the body is the action's input, checked by the action's own schema.
 */
export const handler = apiHandler({
  permission: 'integrations:act',
  params: z.object({ id: integrationIdSchema, action: z.string().regex(/^[a-z]+\.[A-Za-z]+$/, 'must look like provider.action').max(64) }),
  body: z.record(z.string(), z.unknown()),
  responses: { 200: actionOutcomeSchema },
  errors: [404, 409, 429, 503],
  headers: { request: { 'Idempotency-Key': idempotencyKeySchema }, response: { 'Idempotent-Replayed': z.literal('true').optional() } },
  handle: async ({ principal, params, body, event }) => {
    const key = idempotencyKeySchema.safeParse(event.headers['idempotency-key']);
    if (!key.success) throw validationFailed(summarizeIssues('Idempotency-Key header', key.error));
    const target = await findIntegrationAction(principal.orgId, params.id, params.action);
    const input = target.action.validate(body);
    if (!input.success) throw validationFailed(summarizeIssues('body', input.error));
    const answer = await runIntegrationAction({
      userId: principal.userId,
      target,
      run: input.run,
      input: body,
      ...(key.data === undefined ? {} : { idempotencyKey: key.data }),
    });
    const response = success(answer.body, answer.status);
    return answer.replayed ? { ...response, headers: { ...response.headers, 'idempotent-replayed': 'true' } } : response;
  },
});
