/**
 * The two items that keep an integration's lifecycle consistent without
 * transactions (dynalite has none): a short lease under which connect,
 * reconnect, disconnect and erasure of one integration run one at a time, and
 * the claim that makes (organisation, provider, external account) map to one
 * integration. Both are single-item conditional writes.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure, isLive, nowEpochSeconds } from './items';
import { keys } from './keys';

/** Takes the integration's lifecycle lease unless a live one is held; a crashed holder's lease lapses after `durationMs`. */
export async function acquireLifecycleLease(orgId: string, integrationId: string, owner: string, durationMs: number, now = Date.now()): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { pk: keys.org(orgId), sk: keys.lifecycleLock(integrationId), owner, until: now + durationMs },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

export async function releaseLifecycleLease(orgId: string, integrationId: string, owner: string): Promise<void> {
  try {
    await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { pk: keys.org(orgId), sk: keys.lifecycleLock(integrationId) },
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeNames: { '#owner': 'owner' },
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

const claimSchema = z.object({ integrationId: z.string().min(1) });
const claimKey = (orgId: string, providerId: string, accountId: string) => ({
  pk: keys.org(orgId),
  sk: keys.accountClaim(providerId, accountId),
});

/** The integration that holds the account's claim, if any. */
export async function accountClaimHolder(orgId: string, providerId: string, accountId: string): Promise<string | undefined> {
  const { Item } = await dynamo().send(
    new GetCommand({ TableName: tableName(), Key: claimKey(orgId, providerId, accountId), ConsistentRead: true }),
  );
  return Item ? claimSchema.parse(Item).integrationId : undefined;
}

/**
 * Claims the account for `integrationId` when nobody holds it, or when
 * `replacing` (an erased integration) still does. Returns the holder after the
 * attempt: `integrationId` when the claim was won, the other holder otherwise.
 */
export async function claimAccount(
  orgId: string,
  providerId: string,
  accountId: string,
  integrationId: string,
  replacing?: string,
): Promise<string> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...claimKey(orgId, providerId, accountId), integrationId, claimedAt: new Date().toISOString() },
        ConditionExpression: replacing ? 'integrationId = :replacing' : 'attribute_not_exists(pk)',
        ...(replacing ? { ExpressionAttributeValues: { ':replacing': replacing } } : {}),
      }),
    );
    return integrationId;
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
    return (await accountClaimHolder(orgId, providerId, accountId)) ?? claimAccount(orgId, providerId, accountId, integrationId);
  }
}

/** Lets the account go (erasure), only if `integrationId` still holds it. */
export async function releaseAccountClaim(orgId: string, providerId: string, accountId: string, integrationId: string): Promise<void> {
  try {
    await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: claimKey(orgId, providerId, accountId),
        ConditionExpression: 'integrationId = :id',
        ExpressionAttributeValues: { ':id': integrationId },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

/** Pending grants live 10 minutes; a revocation older than a day can no longer matter to one. */
const AUTHORIZATION_MARKER_SECONDS = 24 * 60 * 60;
const authorizationKey = (providerId: string, accountId: string) => ({
  pk: keys.authorizationRevoked(providerId, accountId),
  sk: keys.authorizationRevokedSk,
});

/** Notes that a user's whole authorization at a provider was revoked (every consent of theirs with it). */
export async function recordAuthorizationRevoked(providerId: string, accountId: string, at: Date = new Date()): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...authorizationKey(providerId, accountId), revokedAt: at.toISOString(), expiresAt: nowEpochSeconds(at) + AUTHORIZATION_MARKER_SECONDS },
    }),
  );
}

export async function authorizationRevokedAt(providerId: string, accountId: string): Promise<string | undefined> {
  const { Item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: authorizationKey(providerId, accountId), ConsistentRead: true }));
  return Item && isLive(Item) && typeof Item.revokedAt === 'string' ? Item.revokedAt : undefined;
}
