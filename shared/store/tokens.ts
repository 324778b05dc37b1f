import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { tokenVault } from '../crypto';
import type { TokenContext } from '../crypto/vault';
import type { Credential } from '../oauth/types';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure } from './items';
import { keys } from './keys';
import { dueShardOf } from './due';
import { tokenKey, type TokenRef } from './token-item';

export { deleteCredentials, type TokenRef } from './token-item';

/**
 * The tokens item of an integration: one sealed blob per credential (each
 * with its own encryption context and expiry), a version for optimistic
 * writes, and the refresh lease. Only ciphertext is stored; the expiry is
 * kept in the clear so the refresh sweep can find tokens through the due index.
 */

export interface StoredCredentials {
  version: number;
  credentials: Credential[];
  lease?: { owner: string; until: number };
}

/** How long before expiry a token is refreshed (also by the sweep). */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

const sealedSchema = z.object({
  keyName: z.string(),
  ciphertext: z.instanceof(Uint8Array),
  expiresAt: z.string().optional(),
});

const itemSchema = z.object({
  version: z.number().int(),
  credentials: z.record(z.string(), sealedSchema),
  leaseOwner: z.string().optional(),
  leaseUntil: z.number().optional(),
});

const secretSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  expiresAt: z.string().optional(),
  scopes: z.array(z.string()),
});

const contextOf = (ref: TokenRef, kind: string): TokenContext => ({
  orgId: ref.orgId,
  integrationId: ref.integrationId,
  provider: ref.providerId,
  kind,
});


/** When the sweep should refresh: the earliest expiry among the credentials, less the margin. */
function refreshDueAt(credentials: Credential[]): string | undefined {
  const expiries = credentials.flatMap((credential) => (credential.expiresAt ? [Date.parse(credential.expiresAt)] : []));
  if (expiries.length === 0) return undefined;
  return new Date(Math.min(...expiries) - REFRESH_MARGIN_MS).toISOString();
}

async function sealAll(ref: TokenRef, credentials: Credential[]) {
  const vault = tokenVault();
  const sealed: Record<string, { keyName: string; ciphertext: Uint8Array; expiresAt?: string }> = {};
  for (const credential of credentials) {
    const { kind, ...secret } = credential;
    const blob = await vault.sealJson(secret, contextOf(ref, kind));
    sealed[kind] = { ...blob, ...(credential.expiresAt ? { expiresAt: credential.expiresAt } : {}) };
  }
  return sealed;
}

function indexAttributes(ref: TokenRef, credentials: Credential[]) {
  const dueAt = refreshDueAt(credentials);
  return dueAt
    ? { dueShard: dueShardOf(ref.integrationId), dueAt: keys.refreshDue(dueAt), orgId: ref.orgId, integrationId: ref.integrationId }
    : { orgId: ref.orgId, integrationId: ref.integrationId };
}

/** Writes fresh credentials after a connect or reconnect, replacing whatever was there. */
export async function replaceCredentials(ref: TokenRef, credentials: Credential[]): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...tokenKey(ref),
        providerId: ref.providerId,
        ...indexAttributes(ref, credentials),
        credentials: await sealAll(ref, credentials),
        version: 1,
        updatedAt: new Date().toISOString(),
      },
    }),
  );
}

export async function loadCredentials(ref: TokenRef): Promise<StoredCredentials | undefined> {
  const { Item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: tokenKey(ref), ConsistentRead: true }));
  if (!Item) return undefined;
  const item = itemSchema.parse(Item);
  const vault = tokenVault();
  const credentials = await Promise.all(
    Object.entries(item.credentials).map(async ([kind, sealed]) => ({
      kind,
      ...(await vault.openJson({ keyName: sealed.keyName, ciphertext: sealed.ciphertext }, contextOf(ref, kind), secretSchema)),
    })),
  );
  return {
    version: item.version,
    credentials,
    ...(item.leaseOwner && item.leaseUntil ? { lease: { owner: item.leaseOwner, until: item.leaseUntil } } : {}),
  };
}

/** Takes the refresh lease if nobody holds a live one and the item is still at `version`. */
export async function acquireLease(ref: TokenRef, owner: string, version: number, durationMs: number, now = Date.now()): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: tokenKey(ref),
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        ConditionExpression: 'version = :version AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeValues: { ':owner': owner, ':until': now + durationMs, ':version': version, ':now': now },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

export async function releaseLease(ref: TokenRef, owner: string): Promise<void> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: tokenKey(ref),
        UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: { ':owner': owner },
      }),
    );
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
  }
}

/**
 * Stores refreshed credentials under the lease (fencing: only the lease
 * holder, only from the version it read), bumping the version and releasing
 * the lease. False when the lease was lost meanwhile.
 */
export async function commitRefresh(ref: TokenRef, owner: string, version: number, credentials: Credential[]): Promise<boolean> {
  const index = indexAttributes(ref, credentials);
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: tokenKey(ref),
        UpdateExpression: `SET credentials = :credentials, version = :next, updatedAt = :now${
          'dueAt' in index ? ', dueShard = :shard, dueAt = :dueAt' : ''
        } REMOVE leaseOwner, leaseUntil`,
        ConditionExpression: 'version = :version AND leaseOwner = :owner',
        ExpressionAttributeValues: {
          ':credentials': await sealAll(ref, credentials),
          ':next': version + 1,
          ':now': new Date().toISOString(),
          ':version': version,
          ':owner': owner,
          ...('dueAt' in index ? { ':shard': index.dueShard, ':dueAt': index.dueAt } : {}),
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}
