import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  STATE_TTL_SECONDS,
  consumePendingConnection,
  newStateValue,
  pendingConnectionSchema,
  savePendingConnection,
  stateValueSchema,
  type PendingConnection,
} from '../../shared/oauth/state';
import { dynamo, tableName } from '../../shared/store/client';
import { keys } from '../../shared/store/keys';

/**
 * OAuth state, against dynalite: 256 random bits, stored 10 minutes, consumed
 * once. An expired, reused or unknown state is no state at all.
 */
const pending = (overrides: Partial<PendingConnection> = {}): PendingConnection => ({
  orgId: 'org-state',
  userId: 'user-1',
  providerId: 'slack',
  scopes: ['channels:read'],
  redirectTo: 'http://app.test/settings/integrations',
  codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  createdAt: new Date().toISOString(),
  ...overrides,
});

const rawItem = async (state: string) =>
  (await dynamo().send(new GetCommand({ TableName: tableName(), Key: { pk: keys.oauthState(state), sk: keys.oauthStateSk }, ConsistentRead: true }))).Item;

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe('OAuth state lifetime', () => {
  it('is 10 minutes, stored as the TTL attribute', async () => {
    expect(STATE_TTL_SECONDS).toBe(600);
    const state = newStateValue();
    const now = new Date('2030-01-01T00:00:00.000Z');
    await savePendingConnection(state, pending(), now);
    const item = await rawItem(state);
    expect(item?.expiresAt).toBe(Math.floor(now.getTime() / 1000) + 600);
    expect(item).toMatchObject({ pk: `STATE#${state}`, sk: 'STATE', orgId: 'org-state', providerId: 'slack' });
  });

  it('a state started 9 minutes ago is still good', async () => {
    const state = newStateValue();
    const saved = pending({ integrationId: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F' });
    await savePendingConnection(state, saved, minutesAgo(9));
    expect(await consumePendingConnection(state, 'slack')).toEqual(saved);
  });

  it('a state started 11 minutes ago is gone, even though DynamoDB has not deleted it yet', async () => {
    const state = newStateValue();
    await savePendingConnection(state, pending(), minutesAgo(11));
    expect(await rawItem(state)).toBeDefined();
    expect(await consumePendingConnection(state, 'slack')).toBeUndefined();
  });
});

describe('OAuth state is single-use', () => {
  it('is consumed once: the second callback with the same state gets nothing, and the item is gone', async () => {
    const state = newStateValue();
    const saved = pending();
    await savePendingConnection(state, saved);
    expect(await consumePendingConnection(state, 'slack')).toEqual(saved);
    expect(await rawItem(state)).toBeUndefined();
    expect(await consumePendingConnection(state, 'slack')).toBeUndefined();
  });

  it("is consumed only by its own provider's callback: another provider's path neither gets it nor uses it up", async () => {
    const state = newStateValue();
    const saved = pending({ providerId: 'google' });
    await savePendingConnection(state, saved);
    expect(await consumePendingConnection(state, 'slack')).toBeUndefined();
    expect(await rawItem(state)).toBeDefined();
    expect(await consumePendingConnection(state, 'google')).toEqual(saved);
  });

  it('an unknown state is nothing', async () => {
    expect(await consumePendingConnection(newStateValue(), 'slack')).toBeUndefined();
  });

  it('a state value cannot be saved twice (the first flow is never overwritten)', async () => {
    const state = newStateValue();
    await savePendingConnection(state, pending({ orgId: 'first-org' }));
    await expect(savePendingConnection(state, pending({ orgId: 'second-org' }))).rejects.toThrow();
    expect(await consumePendingConnection(state, 'slack')).toMatchObject({ orgId: 'first-org' });
  });

  it('an item that is not a pending connection is nothing (and is consumed)', async () => {
    const state = newStateValue();
    await dynamo().send(new PutCommand({ TableName: tableName(), Item: { pk: keys.oauthState(state), sk: keys.oauthStateSk, orgId: 'org-x', providerId: 'slack' } }));
    expect(await consumePendingConnection(state, 'slack')).toBeUndefined();
    expect(await rawItem(state)).toBeUndefined();
  });

  it('a storage failure other than "already used" is thrown, not mistaken for an unknown state', async () => {
    // A partition key over DynamoDB's 2,048-byte limit: a ValidationException.
    const error = await consumePendingConnection('s'.repeat(3000), 'slack').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).not.toBe('ConditionalCheckFailedException');
  });
});

describe('OAuth state values', () => {
  it('are 256 random bits in base64url (43 characters), never twice the same', () => {
    const values = new Set(Array.from({ length: 200 }, newStateValue));
    expect(values.size).toBe(200);
    for (const value of values) {
      expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(value, 'base64url')).toHaveLength(32);
      expect(stateValueSchema.safeParse(value).success).toBe(true);
    }
  });

  it.each([
    ['every allowed character', 'ABCMXYZabcmxyz0123456789_-AZaz09_-AZaz09_-Q'],
    ['upper case only', 'Z'.repeat(43)],
    ['lower case only', 'z'.repeat(43)],
    ['digits only', '9'.repeat(43)],
  ])('the format check accepts %s', (_label, value) => {
    expect(value).toHaveLength(43);
    expect(stateValueSchema.safeParse(value).success).toBe(true);
  });

  it.each([
    ['42 characters', 'a'.repeat(42)],
    ['44 characters', 'a'.repeat(44)],
    ['standard base64 (+)', `${'a'.repeat(42)}+`],
    ['standard base64 (/)', `${'a'.repeat(42)}/`],
    ['padding', `${'a'.repeat(42)}=`],
    ['a key separator', `${'a'.repeat(42)}#`],
    ['a trailing newline', `${'a'.repeat(43)}\n`],
    ['a leading space', ` ${'a'.repeat(42)}`],
    ['a dot', `${'a'.repeat(42)}.`],
    ['an empty string', ''],
  ])('the format check refuses %s', (_label, value) => {
    expect(stateValueSchema.safeParse(value).success).toBe(false);
  });

  it('the pending connection needs who, where, which provider and when', () => {
    const valid = pending();
    expect(pendingConnectionSchema.parse(valid)).toEqual(valid);
    for (const field of ['orgId', 'userId', 'providerId', 'redirectTo'] as const) {
      expect(pendingConnectionSchema.safeParse({ ...valid, [field]: '' }).success, field).toBe(false);
      expect(pendingConnectionSchema.safeParse({ ...valid, [field]: 'xy' }).success, field).toBe(true);
    }
    expect(pendingConnectionSchema.safeParse({ ...valid, createdAt: 'yesterday' }).success).toBe(false);
    expect(pendingConnectionSchema.safeParse({ ...valid, scopes: 'channels:read' }).success).toBe(false);
    expect(pendingConnectionSchema.safeParse({ ...valid, codeVerifier: undefined }).success).toBe(true);
  });
});
