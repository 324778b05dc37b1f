/**
 * Grants exchanged at the public callback but not yet completed by the person
 * who started the flow (RFC 9700 §4.7: the grant is bound to its initiator).
 * Sealed like stored tokens, in their own partition, completable for 10
 * minutes. Whoever deletes the item first owns the grant: the initiator's
 * completion, a stranger's attempt (which revokes it), or the sweep that
 * revokes abandoned ones. The TTL is a day, so the sweep always finds the
 * tokens it must revoke before DynamoDB deletes them.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { Credential } from '../oauth/types';
import { dynamo, tableName } from './client';
import { dueItems, dueShardOf } from './due';
import { isConditionalCheckFailure, nowEpochSeconds } from './items';
import { keys } from './keys';
import { openCredentials, sealCredentials } from './tokens';

export const PENDING_GRANT_TTL_SECONDS = 10 * 60;
const PENDING_ITEM_LIFETIME_SECONDS = 24 * 60 * 60;

/** 256 random bits, base64url: the one-time id the app completes the grant with. */
export const newPendingGrantId = (): string => randomBytes(32).toString('base64url');

export const pendingGrantSchema = z.object({
  orgId: z.string().min(1),
  userId: z.string().min(1),
  providerId: z.string().min(1),
  scopesRequested: z.array(z.string()),
  redirectTo: z.string().min(1),
  /** Set by reconnect: the integration the grant must land on. */
  integrationId: z.string().optional(),
  accountId: z.string().min(1),
  accountName: z.string().optional(),
  scopesGranted: z.array(z.string()),
  ipAddress: z.string(),
  userAgent: z.string(),
  exchangedAt: z.iso.datetime(),
  completeBy: z.iso.datetime(),
});
export type PendingGrant = z.infer<typeof pendingGrantSchema>;

/** The vault context of a pending grant's tokens: its own, never an integration's. */
const pendingRef = (pendingId: string, grant: Pick<PendingGrant, 'orgId' | 'providerId'>) => ({
  orgId: grant.orgId,
  integrationId: `pending:${pendingId}`,
  providerId: grant.providerId,
});

export async function savePendingGrant(pendingId: string, grant: PendingGrant, credentials: Credential[]): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.pendingGrant(pendingId),
        sk: keys.pendingGrantSk,
        ...grant,
        credentials: await sealCredentials(pendingRef(pendingId, grant), credentials),
        dueShard: dueShardOf(pendingId),
        dueAt: keys.abandonDue(grant.completeBy),
        expiresAt: nowEpochSeconds(new Date(grant.completeBy)) + PENDING_ITEM_LIFETIME_SECONDS,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/** Deletes the pending grant and returns it with its credentials; undefined when unknown or already taken. */
export async function takePendingGrant(pendingId: string): Promise<{ grant: PendingGrant; credentials: Credential[] } | undefined> {
  try {
    const { Attributes } = await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { pk: keys.pendingGrant(pendingId), sk: keys.pendingGrantSk },
        ConditionExpression: 'attribute_exists(pk)',
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!Attributes) return undefined;
    const grant = pendingGrantSchema.parse(Attributes);
    return { grant, credentials: await openCredentials(pendingRef(pendingId, grant), Attributes.credentials) };
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}

/** Ids of the pending grants nobody completed in time. */
export async function abandonedGrantIds(now: Date = new Date()): Promise<string[]> {
  return (await dueItems(keys.abandonDuePrefix, now)).flatMap((item) => {
    const id = /^PENDING#(.+)$/.exec(String(item.pk))?.[1];
    return id ? [id] : [];
  });
}
