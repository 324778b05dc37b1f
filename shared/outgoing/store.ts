/**
 * Outgoing webhook items in the single table (README: "DynamoDB single
 * table"): an organisation's endpoints (with the sealed signing secret, which
 * listing never reads), one message per event and endpoint (the signed body
 * and where its retries stand; on the `due` index while an attempt is due),
 * and one attempt log item per attempt. Messages and attempts expire 30 days
 * after they were written; a message's body is dropped as soon as it is
 * delivered or dead.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { SealedToken } from '../crypto/vault';
import { dynamo, tableName } from '../store/client';
import { dueShardOf } from '../store/due';
import { isConditionalCheckFailure, isLive, newestFirstPage, nowEpochSeconds, queryAllLive, type Page } from '../store/items';
import { keys } from '../store/keys';

export const outgoingEventTypes = ['connected', 'disconnected', 'health_changed', 'alert', 'synced'] as const;
export type OutgoingEventType = (typeof outgoingEventTypes)[number];

/** How long messages and attempt logs are kept. */
export const DELIVERY_RETENTION_SECONDS = 30 * 24 * 3600;

export const endpointSchema = z.object({
  orgId: z.string(),
  endpointId: z.string(),
  url: z.string(),
  eventTypes: z.array(z.enum(outgoingEventTypes)),
  description: z.string().optional(),
  status: z.enum(['enabled', 'disabled']),
  createdAt: z.iso.datetime(),
  disabledAt: z.iso.datetime().optional(),
  disabledReason: z.string().optional(),
  /** When the first failed attempt since the last success happened; absent while the endpoint is fine. */
  failingSince: z.iso.datetime().optional(),
  lastSuccessAt: z.iso.datetime().optional(),
});
export type StoredEndpoint = z.infer<typeof endpointSchema>;

const sealedSecretSchema = z.object({ keyName: z.string(), ciphertext: z.instanceof(Uint8Array) });

/** Every attribute but the sealed secret: what listing reads. */
const ENDPOINT_ATTRIBUTES = Object.keys(endpointSchema.shape);
const projection = {
  ProjectionExpression: ENDPOINT_ATTRIBUTES.map((_, index) => `#a${index}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(ENDPOINT_ATTRIBUTES.map((name, index) => [`#a${index}`, name])),
};

const endpointKey = (orgId: string, endpointId: string) => ({ pk: keys.org(orgId), sk: keys.eventEndpoint(endpointId) });

export async function putEndpoint(endpoint: StoredEndpoint, secret: SealedToken): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...endpointKey(endpoint.orgId, endpoint.endpointId), ...endpoint, secret: { keyName: secret.keyName, ciphertext: secret.ciphertext } },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

export async function listEndpoints(orgId: string): Promise<StoredEndpoint[]> {
  const items = await queryAllLive({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.eventEndpointPrefix },
    ...projection,
  });
  return items.map((item) => endpointSchema.parse(item));
}

export async function getEndpoint(orgId: string, endpointId: string): Promise<StoredEndpoint | undefined> {
  const { Item: item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: endpointKey(orgId, endpointId), ConsistentRead: true, ...projection }));
  return item ? endpointSchema.parse(item) : undefined;
}

/** The endpoint with its sealed secret, for signing. */
export async function getEndpointWithSecret(orgId: string, endpointId: string): Promise<{ endpoint: StoredEndpoint; secret: SealedToken } | undefined> {
  const { Item: item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: endpointKey(orgId, endpointId), ConsistentRead: true }));
  if (!item) return undefined;
  return { endpoint: endpointSchema.parse(item), secret: sealedSecretSchema.parse(item.secret) };
}

/** Deletes the endpoint and frees its place; false when there was none. */
export async function deleteEndpoint(orgId: string, endpointId: string): Promise<boolean> {
  const { Attributes } = await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: endpointKey(orgId, endpointId), ReturnValues: 'ALL_OLD' }));
  if (Attributes === undefined) return false;
  await releaseEndpointPlace(orgId);
  return true;
}

/**
 * The organisation's endpoint count, the cap's source of truth: a place is
 * taken by a conditional increment before the endpoint is stored, so
 * parallel registrations can never pass the cap. (One TransactWriteItems
 * with the put would be atomic, but the local store, dynalite, has no
 * transactions; instead a failed put gives its place back, and only a
 * function dying between the two writes leaves a place taken.)
 */
const endpointCountKey = (orgId: string) => ({ pk: keys.org(orgId), sk: 'EVENTENDPOINTCOUNT' });

/** Takes one of the organisation's `max` endpoint places; false when all are taken. */
export async function reserveEndpointPlace(orgId: string, max: number): Promise<boolean> {
  const { Item: counter } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: endpointCountKey(orgId), ConsistentRead: true }));
  if (!counter) {
    // The first registration since the count existed starts it at what is stored (one writer wins).
    const stored = (await listEndpoints(orgId)).length;
    try {
      await dynamo().send(new PutCommand({ TableName: tableName(), Item: { ...endpointCountKey(orgId), endpointCount: stored }, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
  return moveEndpointCount(orgId, 1, 'endpointCount < :bound', max);
}

/** Gives a place back (the endpoint was deleted, or never stored); no count (endpoints from before it) or zero: nothing to give. */
export async function releaseEndpointPlace(orgId: string): Promise<void> {
  await moveEndpointCount(orgId, -1, 'endpointCount > :bound', 0);
}

/** Adds `step` to the count if `condition` holds against `bound`; false when it does not. */
async function moveEndpointCount(orgId: string, step: 1 | -1, condition: string, bound: number): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: endpointCountKey(orgId),
        UpdateExpression: 'SET endpointCount = endpointCount + :step',
        ConditionExpression: condition,
        ExpressionAttributeValues: { ':step': step, ':bound': bound },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** An attempt's effect on its endpoint: a success clears the failing streak, a failure starts one if none runs. */
export async function noteEndpointOutcome(orgId: string, endpointId: string, succeeded: boolean, at: Date): Promise<void> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: endpointKey(orgId, endpointId),
        UpdateExpression: succeeded ? 'SET lastSuccessAt = :at REMOVE failingSince' : 'SET failingSince = if_not_exists(failingSince, :at)',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':at': at.toISOString() },
      }),
    );
  } catch (error) {
    // Deleted meanwhile: nothing to note.
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

/** Disables an enabled endpoint; true when this call disabled it (so the alert is raised once). */
export async function disableEndpoint(orgId: string, endpointId: string, reason: string, at: Date): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: endpointKey(orgId, endpointId),
        UpdateExpression: 'SET #status = :disabled, disabledAt = :at, disabledReason = :reason',
        ConditionExpression: 'attribute_exists(pk) AND #status = :enabled',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':disabled': 'disabled', ':enabled': 'enabled', ':at': at.toISOString(), ':reason': reason },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

// --- messages ----------------------------------------------------------------

export const messageSchema = z.object({
  orgId: z.string(),
  endpointId: z.string(),
  /** The EventBridge event's id: one message per event and endpoint, however often EventBridge retries the rule target. */
  eventId: z.string(),
  /** `webhook-id`: the same for every attempt of the message. */
  messageId: z.string(),
  eventType: z.enum(outgoingEventTypes),
  /** The exact bytes signed and sent, kept only while attempts remain. */
  body: z.string().optional(),
  createdAt: z.iso.datetime(),
  attempts: z.number().int().min(0),
  status: z.enum(['pending', 'succeeded', 'dead']),
  nextAttemptAt: z.iso.datetime().optional(),
});
export type StoredMessage = z.infer<typeof messageSchema>;

const messageKey = (message: Pick<StoredMessage, 'orgId' | 'endpointId' | 'eventId'>) => ({
  pk: keys.org(message.orgId),
  sk: keys.eventMessage(message.endpointId, message.eventId),
});

/** Stores a new message, due now; false when EventBridge's retry finds it already stored. */
export async function createMessage(message: StoredMessage, now: Date): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          ...messageKey(message),
          ...message,
          dueShard: dueShardOf(`${message.endpointId}#${message.eventId}`),
          dueAt: keys.outgoingDue(now.toISOString()),
          expiresAt: nowEpochSeconds(now) + DELIVERY_RETENTION_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/**
 * Claims the message's next attempt: counts it and moves the message's due
 * time past the attempt (`leaseUntil`), so a concurrent sweep does not send
 * it too, and a function that dies mid-attempt leaves it due again soon.
 * Undefined when someone else claimed it first or it is no longer pending.
 */
export async function claimAttempt(message: Pick<StoredMessage, 'orgId' | 'endpointId' | 'eventId' | 'attempts'>, leaseUntil: Date): Promise<StoredMessage | undefined> {
  try {
    const { Attributes } = await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: messageKey(message),
        UpdateExpression: 'SET attempts = :next, dueAt = :lease',
        ConditionExpression: 'attribute_exists(pk) AND #status = :pending AND attempts = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':next': message.attempts + 1, ':seen': message.attempts, ':pending': 'pending', ':lease': keys.outgoingDue(leaseUntil.toISOString()) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes && isLive(Attributes) ? messageSchema.parse(Attributes) : undefined;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}

/** After attempt `attempt`: due again at `nextAttemptAt`, or finished (`succeeded`, `dead`: off the index, body dropped). */
export async function settleMessage(
  message: Pick<StoredMessage, 'orgId' | 'endpointId' | 'eventId'>,
  attempt: number,
  next: { status: 'pending'; nextAttemptAt: Date } | { status: 'succeeded' | 'dead' },
): Promise<void> {
  const pending = next.status === 'pending';
  await dynamo().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: messageKey(message),
      UpdateExpression: pending ? 'SET nextAttemptAt = :next, dueAt = :due' : 'SET #status = :status REMOVE dueShard, dueAt, nextAttemptAt, body',
      ConditionExpression: 'attempts = :attempt',
      ExpressionAttributeNames: pending ? undefined : { '#status': 'status' },
      ExpressionAttributeValues: {
        ':attempt': attempt,
        ...(pending
          ? { ':next': next.nextAttemptAt.toISOString(), ':due': keys.outgoingDue(next.nextAttemptAt.toISOString()) }
          : { ':status': next.status }),
      },
    }),
  );
}

/** Gives up a pending message without an attempt (its endpoint was deleted or disabled); a message claimed meanwhile is left to its claimant. */
export async function dropMessage(message: Pick<StoredMessage, 'orgId' | 'endpointId' | 'eventId' | 'attempts'>): Promise<void> {
  try {
    await settleMessage(message, message.attempts, { status: 'dead' });
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

export async function getMessage(key: Pick<StoredMessage, 'orgId' | 'endpointId' | 'eventId'>): Promise<StoredMessage | undefined> {
  const { Item: item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: messageKey(key), ConsistentRead: true }));
  return item && isLive(item) ? messageSchema.parse(item) : undefined;
}

// --- attempt log ---------------------------------------------------------------

export const attemptSchema = z.object({
  endpointId: z.string(),
  messageId: z.string(),
  eventType: z.enum(outgoingEventTypes),
  attempt: z.number().int().min(1),
  at: z.iso.datetime(),
  outcome: z.enum(['succeeded', 'failed']),
  /** The endpoint's HTTP status, when it answered. */
  statusCode: z.number().int().optional(),
  /** Why there was no answer (`timeout`, `connection_refused`, `forbidden_target`…). */
  errorClass: z.string().optional(),
  durationMs: z.number().int().min(0),
  /** When the next attempt is due; absent after a success or the last attempt. */
  nextAttemptAt: z.iso.datetime().optional(),
  /** This failure was the last: the message is dead-lettered. */
  deadLettered: z.boolean(),
});
export type StoredAttempt = z.infer<typeof attemptSchema>;

export async function recordAttempt(orgId: string, attempt: StoredAttempt): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.org(orgId),
        sk: keys.eventAttempt(attempt.endpointId, attempt.at, attempt.messageId, attempt.attempt),
        ...attempt,
        expiresAt: nowEpochSeconds(new Date(attempt.at)) + DELIVERY_RETENTION_SECONDS,
      },
    }),
  );
}

/** The endpoint's attempts, newest first. */
export async function listAttempts(orgId: string, endpointId: string, cursor: string | undefined, limit: number): Promise<Page<StoredAttempt>> {
  const page = await newestFirstPage(keys.org(orgId), keys.eventAttemptPrefix(endpointId), cursor, limit);
  return { ...page, items: page.items.map((item) => attemptSchema.parse(item)) };
}
