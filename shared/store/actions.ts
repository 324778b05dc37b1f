import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure, isLive, nowEpochSeconds } from './items';
import { keys } from './keys';
import { expireIfErased } from './retention';

/**
 * Provider action runs: the per-integration history (who ran what, when,
 * with which outcome and provider ids, never content or recipients) and the
 * Idempotency-Key claims that make a retried action run once.
 */

export const actionRunSchema = z.object({
  runId: z.string(),
  integrationId: z.string(),
  providerId: z.string(),
  action: z.string(),
  userId: z.string(),
  at: z.iso.datetime(),
  outcome: z.enum(['succeeded', 'failed']),
  /** The provider's ids of what was created (channel id, message ts, event id). */
  resultIds: z.record(z.string(), z.string()),
  errorCode: z.string().optional(),
});
export type ActionRun = z.infer<typeof actionRunSchema>;

export async function recordActionRun(orgId: string, run: ActionRun): Promise<void> {
  const sk = keys.actionRun(run.integrationId, run.at, run.runId);
  await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk: keys.org(orgId), sk, ...run } }));
  // Erased while the action ran: the run goes with the rest of the integration's data.
  await expireIfErased(orgId, run.integrationId, [sk]);
}

/** How long a key protects against a repeat (Stripe's and the IETF draft's usual 24 hours). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;
/**
 * A claim still `running` after this long belongs to a run that died (the
 * function times out after 29 s): a retry may take it over.
 */
export const STALE_CLAIM_MS = 2 * 60_000;

export const storedActionResponseSchema = z.object({ status: z.number().int(), body: z.record(z.string(), z.unknown()) });
export type StoredActionResponse = z.infer<typeof storedActionResponseSchema>;

const claimSchema = z.object({
  runId: z.string(),
  fingerprint: z.string(),
  state: z.enum(['running', 'completed']),
  startedAt: z.iso.datetime(),
  response: storedActionResponseSchema.optional(),
});
export type IdempotencyClaim = z.infer<typeof claimSchema>;

interface ClaimRequest {
  orgId: string;
  integrationId: string;
  key: string;
  runId: string;
  fingerprint: string;
  now: Date;
}

const claimKey = (request: Pick<ClaimRequest, 'orgId' | 'integrationId' | 'key'>) => ({ pk: keys.org(request.orgId), sk: keys.idempotencyKey(request.integrationId, request.key) });

/** Claims the key for this run; otherwise returns the claim that holds it (running or completed). */
export async function claimIdempotencyKey(request: ClaimRequest): Promise<{ claimed: true } | { claimed: false; holder: IdempotencyClaim }> {
  const startedAt = request.now.toISOString();
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...claimKey(request),
          integrationId: request.integrationId,
          runId: request.runId,
          fingerprint: request.fingerprint,
          state: 'running',
          startedAt,
          expiresAt: nowEpochSeconds(request.now) + IDEMPOTENCY_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now OR (#state = :running AND startedAt < :stale)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':now': nowEpochSeconds(request.now),
          ':running': 'running',
          ':stale': new Date(request.now.getTime() - STALE_CLAIM_MS).toISOString(),
        },
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
  const { Item: item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: claimKey(request), ConsistentRead: true }));
  // Released between our put and this read: the caller may simply retry.
  if (!item || !isLive(item)) return claimIdempotencyKey(request);
  return { claimed: false, holder: claimSchema.parse(item) };
}

/** Stores the run's answer on its claim, for retries to replay. */
export async function completeIdempotencyKey(request: Omit<ClaimRequest, 'fingerprint' | 'now'>, response: StoredActionResponse): Promise<void> {
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: claimKey(request),
      UpdateExpression: 'SET #state = :completed, #response = :response',
      ConditionExpression: 'runId = :runId',
      ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
      ExpressionAttributeValues: { ':completed': 'completed', ':response': response, ':runId': request.runId },
    }),
  );
}

/** Frees the key after a run that did nothing at the provider, so a retry runs it again. */
export async function releaseIdempotencyKey(request: Omit<ClaimRequest, 'fingerprint' | 'now'>): Promise<void> {
  try {
    await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: claimKey(request),
        ConditionExpression: 'runId = :runId',
        ExpressionAttributeValues: { ':runId': request.runId },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}
