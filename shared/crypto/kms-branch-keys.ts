import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from '../store/client';
import { isConditionalCheckFailure } from '../store/items';
import { keys } from '../store/keys';
import type { WrappingKey, WrappingKeySource } from './wrapping-keys';

/**
 * Two-level envelope in AWS (the idea of the Encryption SDK's hierarchical
 * keyring): a KMS-wrapped 256-bit *branch key* is stored in the table; each
 * container unwraps it once with one KMS Decrypt and keeps it for `cacheTtlMs`.
 * Every token's data key is wrapped by the branch key, so KMS requests grow
 * with containers, not with integrations. A new branch key version
 * (`rotate()`) seals new tokens while older versions keep opening old ones.
 */
const PURPOSE = 'hr-integrations-token-branch-key';

const branchKeyItemSchema = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  wrappedKey: z.instanceof(Uint8Array),
});

const branchName = (version: number) => `branch-${String(version).padStart(6, '0')}`;
const versionOf = (name: string): number | undefined => {
  const match = /^branch-(\d{6})$/.exec(name);
  return match ? Number(match[1]) : undefined;
};

interface CachedKey {
  key: Promise<WrappingKey>;
  loadedAt: number;
}

export class KmsBranchKeys implements WrappingKeySource {
  /** Keys by name, as promises so concurrent callers share one KMS call. */
  private readonly cache = new Map<string, CachedKey>();
  private currentKey: CachedKey | undefined;

  constructor(
    private readonly kms: KMSClient,
    private readonly kmsKeyArn: string,
    private readonly cacheTtlMs = 60 * 60 * 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  private fresh(loadedAt: number): boolean {
    return this.clock() - loadedAt < this.cacheTtlMs;
  }

  private kmsContext(name: string): Record<string, string> {
    return { purpose: PURPOSE, branchKey: name };
  }

  current(): Promise<WrappingKey> {
    if (!this.currentKey || !this.fresh(this.currentKey.loadedAt)) {
      const loading = this.loadCurrent();
      // A failed load is forgotten so the next caller tries again.
      loading.catch(() => {
        if (this.currentKey?.key === loading) this.currentKey = undefined;
      });
      this.currentKey = { key: loading, loadedAt: this.clock() };
    }
    return this.currentKey.key;
  }

  private async loadCurrent(): Promise<WrappingKey> {
    const { Items } = await dynamo().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.keyringPk, ':prefix': keys.branchKeyPrefix },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const newest = Items?.[0] ? branchKeyItemSchema.parse(Items[0]) : undefined;
    return newest ? this.byName(newest.name).then((key) => key ?? this.create(1)) : this.create(1);
  }

  async byName(name: string): Promise<WrappingKey | undefined> {
    const cached = this.cache.get(name);
    if (cached && this.fresh(cached.loadedAt)) return cached.key;
    const version = versionOf(name);
    if (version === undefined) return undefined;
    const { Item } = await dynamo().send(
      new GetCommand({ TableName: tableName(), Key: { pk: keys.keyringPk, sk: keys.branchKey(version) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const again = this.cache.get(name);
    if (again && this.fresh(again.loadedAt)) return again.key;
    return this.remember(name, this.unwrap(name, branchKeyItemSchema.parse(Item).wrappedKey));
  }

  /** Starts a new branch key version; returns its name. */
  async rotate(): Promise<string> {
    const current = await this.current();
    const next = this.create((versionOf(current.name) ?? 0) + 1);
    this.currentKey = { key: next, loadedAt: this.clock() };
    return (await next).name;
  }

  private async unwrap(name: string, wrappedKey: Uint8Array): Promise<WrappingKey> {
    const { Plaintext } = await this.kms.send(
      new DecryptCommand({ CiphertextBlob: wrappedKey, KeyId: this.kmsKeyArn, EncryptionContext: this.kmsContext(name) }),
    );
    if (!Plaintext || Plaintext.length !== 32) throw new Error('KMS returned no 256-bit branch key');
    return { name, material: Plaintext };
  }

  /** Creates a branch key version; when another container won the race, uses theirs. */
  private async create(version: number): Promise<WrappingKey> {
    const name = branchName(version);
    const { Plaintext, CiphertextBlob } = await this.kms.send(
      new GenerateDataKeyCommand({ KeyId: this.kmsKeyArn, KeySpec: 'AES_256', EncryptionContext: this.kmsContext(name) }),
    );
    if (!Plaintext || Plaintext.length !== 32 || !CiphertextBlob) throw new Error('KMS returned no 256-bit data key');
    try {
      await dynamo().send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            pk: keys.keyringPk,
            sk: keys.branchKey(version),
            name,
            version,
            wrappedKey: CiphertextBlob,
            kmsKeyArn: this.kmsKeyArn,
            createdAt: new Date(this.clock()).toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      const key = { name, material: Plaintext };
      this.remember(name, Promise.resolve(key));
      return key;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
      const theirs = await this.byName(name);
      if (!theirs) throw error;
      return theirs;
    }
  }

  private remember(name: string, key: Promise<WrappingKey>): Promise<WrappingKey> {
    this.cache.set(name, { key, loadedAt: this.clock() });
    key.catch(() => {
      if (this.cache.get(name)?.key === key) this.cache.delete(name);
    });
    return key;
  }
}
