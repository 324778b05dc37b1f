import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { dynamo, tableName } from '../store/client';
import { isConditionalCheckFailure, isLive, nowEpochSeconds } from '../store/items';
import { keys } from '../store/keys';

/**
 * OAuth state: 256 random bits naming a server-side item that lives 10
 * minutes and is consumed once (a conditional delete), carrying who started
 * the flow, for which organisation, the PKCE verifier and where to go back.
 */
export const STATE_TTL_SECONDS = 10 * 60;

export const pendingConnectionSchema = z.object({
  orgId: z.string().min(1),
  userId: z.string().min(1),
  providerId: z.string().min(1),
  scopes: z.array(z.string()),
  redirectTo: z.string().min(1),
  codeVerifier: z.string().optional(),
  /** Set by reconnect: the integration the grant must land on. */
  integrationId: z.string().optional(),
  createdAt: z.iso.datetime(),
});

export type PendingConnection = z.infer<typeof pendingConnectionSchema>;

export const newStateValue = (): string => randomBytes(32).toString('base64url');

export const stateValueSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

export async function savePendingConnection(state: string, pending: PendingConnection, now: Date = new Date()): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: { pk: keys.oauthState(state), sk: keys.oauthStateSk, ...pending, expiresAt: nowEpochSeconds(now) + STATE_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/**
 * Deletes and returns the pending connection; undefined when unknown, already
 * used, expired, or started for another provider (a callback replayed on the
 * wrong provider's path does not use up the real flow's state).
 */
export async function consumePendingConnection(state: string, providerId: string): Promise<PendingConnection | undefined> {
  try {
    const { Attributes: item } = await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { pk: keys.oauthState(state), sk: keys.oauthStateSk },
        ConditionExpression: 'attribute_exists(pk) AND providerId = :provider',
        ExpressionAttributeValues: { ':provider': providerId },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!item || !isLive(item)) return undefined;
    const parsed = pendingConnectionSchema.safeParse(item);
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}
