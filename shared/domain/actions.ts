import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ProviderError, errorCodeOf } from '../oauth/errors';
import { IntegrationUnavailableError, withAccessToken } from '../oauth/token-manager';
import { findAction, providerName } from '../providers/registry';
import type { ActionResult, ProviderAction, ProviderActions } from '../providers/types';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  recordActionRun,
  releaseIdempotencyKey,
  type StoredActionResponse,
} from '../store/actions';
import { AppError, RateLimitedError, conflict, forbidden, notFound } from './errors';
import type { IntegrationRecord } from './integration';
import { requireVisibleIntegration } from './lifecycle';

/**
 * Provider actions through the API (post a welcome message, book an
 * onboarding meeting, send an e-mail) with the integration's own token.
 * Each provider declares its actions in its module; this file knows none
 * of them: it finds the action, runs it once per Idempotency-Key, records
 * the run, and turns the provider's refusals into the documented answers.
 */

export interface IntegrationAction {
  integration: IntegrationRecord;
  action: ProviderAction;
  actions: ProviderActions;
}

/**
 * The caller's integration and the action it offers: 404 for an erased or
 * another organisation's integration, and for an action its provider does
 * not offer (an action is a resource of the integration); 409 unless active.
 */
export async function findIntegrationAction(orgId: string, integrationId: string, actionName: string): Promise<IntegrationAction> {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  const found = findAction(integration.providerId, actionName);
  if (!found) throw notFound(`Action ${actionName} of a ${providerName(integration.providerId)} integration`);
  if (integration.status !== 'active') throw conflict('Only an active integration can run actions; reconnect it first');
  return { integration, ...found };
}

export interface ActionRunRequest {
  userId: string;
  target: IntegrationAction;
  /** The validated input bound to the action (see ProviderAction.validate). */
  run: (accessToken: string) => Promise<ActionResult>;
  /** The caller's body as sent: a retry under the same Idempotency-Key must send the same. */
  input: unknown;
  idempotencyKey?: string;
}

/** What a successful action answers (a replay under the same Idempotency-Key answers the same). */
export const actionOutcomeSchema = z.object({
  runId: z.uuid(),
  action: z.string(),
  /** The provider's ids of what the action created. */
  ids: z.record(z.string(), z.string()),
  details: z.record(z.string(), z.union([z.string(), z.boolean()])).optional(),
});

export interface ActionAnswer {
  status: number;
  body: Record<string, unknown>;
  /** True when an Idempotency-Key retry got the stored answer and nothing ran. */
  replayed: boolean;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const fingerprintOf = (actionName: string, input: unknown) => createHash('sha256').update(`${actionName}\n${canonicalJson(input)}`).digest('base64url');

export async function runIntegrationAction(request: ActionRunRequest): Promise<ActionAnswer> {
  const { integration, action } = request.target;
  const runId = randomUUID();
  const claim = { orgId: integration.orgId, integrationId: integration.id, runId };
  const key = request.idempotencyKey;
  if (key !== undefined) {
    const fingerprint = fingerprintOf(action.name, request.input);
    const claimed = await claimIdempotencyKey({ ...claim, key, fingerprint, now: new Date() });
    if (!claimed.claimed) return replay(claimed.holder, fingerprint);
  }
  const at = new Date().toISOString();
  const history = { runId, integrationId: integration.id, providerId: integration.providerId, action: action.name, userId: request.userId, at };
  let result: ActionResult;
  try {
    result = await withAccessToken(integration, action.credentialKind, request.run);
  } catch (error) {
    await recordActionRun(integration.orgId, { ...history, outcome: 'failed', resultIds: {}, errorCode: errorCodeOf(error) });
    // A refused or failed call did nothing at the provider: the key is freed so a retry runs it. With no
    // answer at all the provider may have acted: the key stays held (retries are 409 until it goes stale).
    const outcomeUnknown = error instanceof ProviderError && error.outcomeUnknown;
    if (key !== undefined && !outcomeUnknown) await releaseIdempotencyKey({ ...claim, key });
    throw answerFor(error, request.target);
  }
  await recordActionRun(integration.orgId, { ...history, outcome: 'succeeded', resultIds: result.ids });
  const answer: StoredActionResponse = { status: 200, body: { runId, action: action.name, ids: result.ids, ...(result.details ? { details: result.details } : {}) } };
  if (key !== undefined) await completeIdempotencyKey({ ...claim, key }, answer);
  return { ...answer, replayed: false };
}

function replay(holder: { fingerprint: string; state: 'running' | 'completed'; response?: StoredActionResponse | undefined }, fingerprint: string): ActionAnswer {
  if (holder.fingerprint !== fingerprint) throw conflict('This Idempotency-Key was used for a different request; use a new key');
  if (holder.state === 'running' || !holder.response) throw conflict('A request with this Idempotency-Key is still in progress; retry later');
  return { ...holder.response, replayed: true };
}

/** The documented answer to a failed action; anything unexpected stays as it is (503 for an unavailable provider, else 500). */
function answerFor(error: unknown, { integration, action, actions }: IntegrationAction): unknown {
  const provider = providerName(integration.providerId);
  if (error instanceof IntegrationUnavailableError) {
    return conflict(`The integration was disconnected (${error.reason}); reconnect it`);
  }
  if (!(error instanceof ProviderError)) return error;
  if (error.transient && error.status === 429) {
    const after = error.retryAfterSeconds === undefined ? 'later' : `after ${error.retryAfterSeconds} s`;
    return new RateLimitedError(`${provider} is rate limiting this account; retry ${after}`, error.retryAfterSeconds);
  }
  if (error.kind !== 'rejected') return error;
  switch (actions.failureOf(error.code)) {
    case 'missing_scope':
      return forbidden(`The ${provider} grant lacks the scope ${action.requiredScope} that ${action.name} needs; reconnect the integration granting it`);
    case 'name_taken':
      return conflict(`${provider} refused: ${error.code} (the name is already in use)`);
    case 'not_found':
      return new AppError(404, 'not_found', `${provider} refused: ${error.code}`);
    default:
      return new AppError(400, 'bad_request', `${provider} refused the action: ${error.code}`);
  }
}
