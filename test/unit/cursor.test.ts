import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod';

/**
 * The cursor key (CURSOR_SIGNING_KEY, else the Secrets Manager secret that
 * CURSOR_KEY_SECRET_ARN names, read once per container) and what sealing binds.
 */
const secretsManager = mockClient(SecretsManagerClient);
const saved = { ...process.env };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:CursorKey-AbCdEf';
const content = z.object({ pk: z.string(), sk: z.string() });
/** Each fresh module graph has its own error class: compare by name. */
const refused = { name: 'InvalidCursorError' };
const binding = { purpose: 'query', table: 't', values: { ':pk': 'ORG#acme' }, forward: true };

/** A fresh module: the key is cached per container, as on Lambda. */
async function freshCursor(env: { CURSOR_SIGNING_KEY?: string; CURSOR_KEY_SECRET_ARN?: string }) {
  delete process.env.CURSOR_SIGNING_KEY;
  delete process.env.CURSOR_KEY_SECRET_ARN;
  Object.assign(process.env, env);
  vi.resetModules();
  return import('../../shared/store/cursor');
}

afterEach(() => {
  process.env = { ...saved };
  secretsManager.reset();
  vi.resetModules();
});

describe('the cursor key', () => {
  it('is CURSOR_SIGNING_KEY when set: a sealed cursor opens, with the same content', async () => {
    const cursor = await freshCursor({ CURSOR_SIGNING_KEY: 'k'.repeat(32) });
    const sealed = await cursor.sealCursor(binding, { pk: 'ORG#acme', sk: 'INT#1' });
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed.length).toBeLessThan(100);
    expect(await cursor.openCursor(binding, sealed, content)).toEqual({ pk: 'ORG#acme', sk: 'INT#1' });
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('missing: the first use fails naming CURSOR_SIGNING_KEY (and the secret alternative)', async () => {
    const cursor = await freshCursor({});
    await expect(cursor.sealCursor(binding, {})).rejects.toThrow(/CURSOR_SIGNING_KEY: must be set.*CURSOR_KEY_SECRET_ARN/);
  });

  it('shorter than 32 characters: refused, naming the variable', async () => {
    const cursor = await freshCursor({ CURSOR_SIGNING_KEY: 'short' });
    await expect(cursor.sealCursor(binding, {})).rejects.toThrow(/CURSOR_SIGNING_KEY: must be at least 32 characters/);
  });

  it('in AWS: read from the secret once per container, the SDK used only then', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 's'.repeat(32) });
    const cursor = await freshCursor({ CURSOR_KEY_SECRET_ARN: SECRET_ARN });
    const sealed = await Promise.all([cursor.sealCursor(binding, { pk: 'a', sk: 'b' }), cursor.sealCursor(binding, { pk: 'a', sk: 'b' })]);
    expect(await cursor.openCursor(binding, sealed[0] ?? '', content)).toEqual({ pk: 'a', sk: 'b' });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    // The same key as CURSOR_SIGNING_KEY would give: the secret's string is the key.
    const fromEnv = await freshCursor({ CURSOR_SIGNING_KEY: 's'.repeat(32) });
    expect(await fromEnv.sealCursor(binding, { pk: 'a', sk: 'b' })).toBe(sealed[0]);
  });

  it('in AWS: a failed read is retried on the next use; a short secret is refused, naming CURSOR_KEY_SECRET_ARN', async () => {
    secretsManager.on(GetSecretValueCommand).rejectsOnce(new Error('throttled')).resolvesOnce({ SecretString: 'short' });
    const cursor = await freshCursor({ CURSOR_KEY_SECRET_ARN: SECRET_ARN });
    await expect(cursor.sealCursor(binding, {})).rejects.toThrow('throttled');
    await expect(cursor.sealCursor(binding, {})).rejects.toThrow(/CURSOR_KEY_SECRET_ARN.*at least 32 characters/);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('another key (a rotation, another deployment) does not open the cursor', async () => {
    const sealed = await (await freshCursor({ CURSOR_SIGNING_KEY: 'a'.repeat(32) })).sealCursor(binding, { pk: 'x', sk: 'y' });
    const other = await freshCursor({ CURSOR_SIGNING_KEY: 'b'.repeat(32) });
    await expect(other.openCursor(binding, sealed, content)).rejects.toMatchObject(refused);
  });
});

describe('what a cursor is bound to', () => {
  it('opens only under the binding it was sealed for, however the binding object was built', async () => {
    const cursor = await freshCursor({ CURSOR_SIGNING_KEY: 'k'.repeat(32) });
    const sealed = await cursor.sealCursor(binding, { pk: 'ORG#acme', sk: 'INT#1' });
    const reordered = { forward: true, values: { ':pk': 'ORG#acme' }, table: 't', purpose: 'query' };
    expect(await cursor.openCursor(reordered, sealed, content)).toEqual({ pk: 'ORG#acme', sk: 'INT#1' });
    for (const other of [
      { ...binding, values: { ':pk': 'ORG#other' } },
      { ...binding, forward: false },
      { ...binding, table: 'u' },
      { ...binding, purpose: 'export' },
      { ...binding, index: 'routing' },
    ]) {
      await expect(cursor.openCursor(other, sealed, content), JSON.stringify(other)).rejects.toMatchObject(refused);
    }
  });

  it('content the schema refuses is an InvalidCursorError even when sealed by the server', async () => {
    const cursor = await freshCursor({ CURSOR_SIGNING_KEY: 'k'.repeat(32) });
    const sealed = await cursor.sealCursor(binding, { pk: 1 });
    await expect(cursor.openCursor(binding, sealed, content)).rejects.toMatchObject(refused);
  });
});
