/**
 * An organisation's outgoing webhook endpoints, as the API offers them:
 * register (the signing secret is shown in that answer and never again),
 * list, delete, and read an endpoint's delivery attempts. The secret is
 * sealed with the token vault under a context of its own, so it can sign
 * later and can never be opened as anything else.
 */
import { ulid } from 'ulid';
import * as z from 'zod';
import type { TokenContext } from '../crypto/vault';
import { tokenVault } from '../crypto';
import { conflict, notFound, validationFailed } from '../domain/errors';
import { logger } from '../logging/logger';
import { deleteAlert } from '../store/alerts';
import { newSigningSecret } from './signing';
import { ForbiddenTargetError, validateEndpointUrl } from './ssrf';
import {
  attemptSchema,
  deleteEndpoint,
  getEndpoint,
  listAttempts,
  listEndpoints,
  outgoingEventTypes,
  putEndpoint,
  releaseEndpointPlace,
  reserveEndpointPlace,
  type StoredEndpoint,
} from './store';

/**
 * How many endpoints an organisation may register. Every event fans out to
 * each of them from one function invocation, so the cap bounds that work; an
 * HR platform needs one or two (production, staging).
 */
export const MAX_ENDPOINTS_PER_ORG = 10;

export const endpointIdSchema = z.string().regex(/^ep_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an endpoint id (ep_…)');

export const registerEndpointSchema = z
  .object({
    url: z.string().min(1).max(2048),
    eventTypes: z
      .array(z.enum(outgoingEventTypes))
      .min(1)
      .refine((types) => new Set(types).size === types.length, 'must not repeat an event type'),
    description: z.string().max(200).optional(),
  })
  .strict();
export type RegisterEndpointInput = z.infer<typeof registerEndpointSchema>;

export const endpointViewSchema = z.object({
  id: endpointIdSchema,
  url: z.string(),
  eventTypes: z.array(z.enum(outgoingEventTypes)),
  description: z.string().nullable(),
  status: z.enum(['enabled', 'disabled']),
  createdAt: z.iso.datetime(),
  disabledAt: z.iso.datetime().nullable(),
  disabledReason: z.string().nullable(),
  lastSuccessAt: z.iso.datetime().nullable(),
  failingSince: z.iso.datetime().nullable(),
});
export type EndpointView = z.infer<typeof endpointViewSchema>;
/** The registration's answer: the only place the secret ever appears. */
export const registeredEndpointSchema = endpointViewSchema.extend({ secret: z.string().startsWith('whsec_') });
export const endpointListSchema = z.object({ endpoints: z.array(endpointViewSchema) });
export const attemptViewSchema = attemptSchema.omit({ endpointId: true }).extend({
  statusCode: z.number().int().nullable(),
  errorClass: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
});
export const attemptPageSchema = z.object({ deliveries: z.array(attemptViewSchema), nextCursor: z.string().nullable() });

/** The vault context of an endpoint's signing secret: its own kind, never an integration's. */
export const signingSecretContext = (orgId: string, endpointId: string): TokenContext => ({
  orgId,
  integrationId: `event-endpoint:${endpointId}`,
  provider: 'outgoing-webhooks',
  kind: 'signing-secret',
});

/** The alert an endpoint's disabling raises: one per endpoint, resolved when the endpoint is deleted. */
export const endpointDisabledAlertKind = (endpointId: string) => `event_endpoint_disabled:${endpointId}`;

function toView(endpoint: StoredEndpoint): EndpointView {
  return {
    id: endpoint.endpointId,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes,
    description: endpoint.description ?? null,
    status: endpoint.status,
    createdAt: endpoint.createdAt,
    disabledAt: endpoint.disabledAt ?? null,
    disabledReason: endpoint.disabledReason ?? null,
    lastSuccessAt: endpoint.lastSuccessAt ?? null,
    failingSince: endpoint.failingSince ?? null,
  };
}

export async function registerEndpoint(orgId: string, input: RegisterEndpointInput, now: Date = new Date()): Promise<z.infer<typeof registeredEndpointSchema>> {
  let url: URL;
  try {
    url = await validateEndpointUrl(input.url);
  } catch (error) {
    if (error instanceof ForbiddenTargetError) throw validationFailed(`url: ${error.reason}`);
    throw error;
  }
  if (!(await reserveEndpointPlace(orgId, MAX_ENDPOINTS_PER_ORG))) {
    throw conflict(`An organisation may register at most ${MAX_ENDPOINTS_PER_ORG} endpoints; delete one first`);
  }
  const endpointId = `ep_${ulid(now.getTime())}`;
  const secret = newSigningSecret();
  const endpoint: StoredEndpoint = {
    orgId,
    endpointId,
    url: url.toString(),
    eventTypes: input.eventTypes,
    ...(input.description === undefined ? {} : { description: input.description }),
    status: 'enabled',
    createdAt: now.toISOString(),
  };
  try {
    await putEndpoint(endpoint, await tokenVault().seal(secret, signingSecretContext(orgId, endpointId)));
  } catch (error) {
    await releaseEndpointPlace(orgId);
    throw error;
  }
  logger.info('Event endpoint registered', { endpointId, eventTypes: input.eventTypes });
  return { ...toView(endpoint), secret };
}

export async function endpointsOf(orgId: string): Promise<{ endpoints: EndpointView[] }> {
  const endpoints = await listEndpoints(orgId);
  return { endpoints: endpoints.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map(toView) };
}

/** Deletes the endpoint (deliveries still queued for it are dead-lettered by the next attempt) and resolves its alert. */
export async function removeEndpoint(orgId: string, endpointId: string): Promise<void> {
  if (!(await deleteEndpoint(orgId, endpointId))) throw notFound('Endpoint');
  await deleteAlert({ orgId, kind: endpointDisabledAlertKind(endpointId) });
  logger.info('Event endpoint deleted', { endpointId });
}

export async function deliveriesOf(orgId: string, endpointId: string, cursor: string | undefined, limit: number): Promise<z.infer<typeof attemptPageSchema>> {
  if (!(await getEndpoint(orgId, endpointId))) throw notFound('Endpoint');
  const page = await listAttempts(orgId, endpointId, cursor, limit);
  return {
    deliveries: page.items.map(({ endpointId: _endpointId, ...attempt }) => ({
      ...attempt,
      statusCode: attempt.statusCode ?? null,
      errorClass: attempt.errorClass ?? null,
      nextAttemptAt: attempt.nextAttemptAt ?? null,
    })),
    nextCursor: page.nextCursor ?? null,
  };
}
