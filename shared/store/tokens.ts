import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
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
  /** Which grant these credentials belong to: a new one at every connect or reconnect (absent on items written before grants had ids). */
  grantId?: string;
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

const sealedCredentialsSchema = z.record(z.string(), sealedSchema);

const itemSchema = z.object({
  version: z.number().int(),
  grantId: z.string().optional(),
  credentials: sealedCredentialsSchema,
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

/** Seals each credential under its own context (organisation, integration, provider, kind). */
export async function sealCredentials(ref: TokenRef, credentials: Credential[]) {
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

/**
 * Writes a new grant's credentials after a connect or reconnect, replacing
 * whatever was there; returns the new grant's id and the credentials it
 * superseded, so the caller can revoke them.
 */
export async function replaceCredentials(ref: TokenRef, credentials: Credential[]): Promise<{ grantId: string; superseded?: StoredCredentials }> {
  const grantId = randomUUID();
  const { Attributes } = await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...tokenKey(ref),
        providerId: ref.providerId,
        ...indexAttributes(ref, credentials),
        credentials: await sealCredentials(ref, credentials),
        grantId,
        version: 1,
        updatedAt: new Date().toISOString(),
      },
      ReturnValues: 'ALL_OLD',
    }),
  );
  const superseded = Attributes ? await openItem(ref, Attributes) : undefined;
  return superseded ? { grantId, superseded } : { grantId };
}

/** Opens what `sealCredentials` sealed for the same reference (the context is checked on every blob). */
export async function openCredentials(ref: TokenRef, sealed: unknown): Promise<Credential[]> {
  const vault = tokenVault();
  return Promise.all(
    Object.entries(sealedCredentialsSchema.parse(sealed)).map(async ([kind, blob]) => ({
      kind,
      ...(await vault.openJson({ keyName: blob.keyName, ciphertext: blob.ciphertext }, contextOf(ref, kind), secretSchema)),
    })),
  );
}

async function openItem(ref: TokenRef, raw: Record<string, unknown>): Promise<StoredCredentials> {
  const item = itemSchema.parse(raw);
  const credentials = await openCredentials(ref, item.credentials);
  return {
    version: item.version,
    ...(item.grantId ? { grantId: item.grantId } : {}),
    credentials,
    ...(item.leaseOwner && item.leaseUntil ? { lease: { owner: item.leaseOwner, until: item.leaseUntil } } : {}),
  };
}

export async function loadCredentials(ref: TokenRef): Promise<StoredCredentials | undefined> {
  const { Item } = await dynamo().send(new GetCommand({ TableName: tableName(), Key: tokenKey(ref), ConsistentRead: true }));
  return Item ? openItem(ref, Item) : undefined;
}

/**
 * Deletes the tokens item and returns what it held at that instant, so a
 * refresh committed a moment earlier is what gets revoked.
 */
export async function takeCredentials(ref: TokenRef): Promise<StoredCredentials | undefined> {
  const { Attributes } = await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: tokenKey(ref), ReturnValues: 'ALL_OLD' }));
  return Attributes ? openItem(ref, Attributes) : undefined;
}

/**
 * Takes the refresh lease if nobody holds a live one and the item still holds
 * the grant and version that were read (a reconnect starts a new grant at
 * version 1, so the version alone could match a stale read).
 */
export async function acquireLease(
  ref: TokenRef,
  owner: string,
  read: Pick<StoredCredentials, 'version' | 'grantId'>,
  durationMs: number,
  now = Date.now(),
): Promise<boolean> {
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: tokenKey(ref),
        UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
        ConditionExpression: `version = :version AND ${read.grantId ? 'grantId = :grant' : 'attribute_not_exists(grantId)'} AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)`,
        ExpressionAttributeValues: {
          ':owner': owner,
          ':until': now + durationMs,
          ':version': read.version,
          ':now': now,
          ...(read.grantId ? { ':grant': read.grantId } : {}),
        },
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
          ':credentials': await sealCredentials(ref, credentials),
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
