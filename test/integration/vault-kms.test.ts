import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ensureTable } from '../../infra/local/embedded-store';
import { KmsBranchKeys } from '../../shared/crypto/kms-branch-keys';
import { TokenVault, type TokenContext } from '../../shared/crypto/vault';

/**
 * The AWS path: branch keys live in the table (dynalite, real) and are wrapped
 * by KMS (no local implementation: aws-sdk-client-mock, with a fake that keeps
 * KMS's contract: a ciphertext only decrypts under its own encryption context).
 */
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const kms = mockClient(KMSClient);
const wrapped = new Map<string, { plaintext: Uint8Array; context: string }>();

function fakeKms() {
  kms.reset();
  kms.on(GenerateDataKeyCommand).callsFake((input: { EncryptionContext?: Record<string, string> }) => {
    const plaintext = new Uint8Array(randomBytes(32));
    const ciphertext = new Uint8Array(randomBytes(184));
    wrapped.set(Buffer.from(ciphertext).toString('hex'), { plaintext, context: JSON.stringify(input.EncryptionContext) });
    return { Plaintext: Uint8Array.from(plaintext), CiphertextBlob: ciphertext, KeyId: KEY_ARN };
  });
  kms.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array; EncryptionContext?: Record<string, string> }) => {
    const entry = wrapped.get(Buffer.from(input.CiphertextBlob).toString('hex'));
    if (!entry || entry.context !== JSON.stringify(input.EncryptionContext)) {
      throw Object.assign(new Error('InvalidCiphertextException'), { name: 'InvalidCiphertextException' });
    }
    return { Plaintext: Uint8Array.from(entry.plaintext), KeyId: KEY_ARN };
  });
}

const contextFor = (n: number): TokenContext => ({
  orgId: `org-${n % 7}`,
  integrationId: `int_${String(n).padStart(26, '0')}`,
  provider: 'google',
  kind: 'oauth',
});

const newContainer = () => new TokenVault(new KmsBranchKeys(new KMSClient({}), KEY_ARN));

beforeAll(async () => {
  // A table of its own: branch keys are global items and this file checks their very first creation.
  process.env.TABLE_NAME = `kms-${randomUUID().slice(0, 8)}`;
  await ensureTable(inject('dynamoEndpoint'), process.env.TABLE_NAME);
});

beforeEach(fakeKms);

describe('KMS-backed token vault (branch keys)', () => {
  it('makes one KMS call per container, however many integrations it seals and opens', async () => {
    const first = newContainer();
    const sealed = await Promise.all(Array.from({ length: 100 }, (_, n) => first.seal(`token-${n}`, contextFor(n))));
    expect(kms.commandCalls(GenerateDataKeyCommand).map((call) => call.args[0].input)).toEqual([
      { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: { purpose: 'hr-integrations-token-branch-key', branchKey: 'branch-000001' } },
    ]);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);

    kms.resetHistory();
    const second = newContainer();
    const opened = await Promise.all(sealed.map((blob, n) => second.open(blob, contextFor(n))));
    expect(opened.map(String)).toEqual(Array.from({ length: 100 }, (_, n) => `token-${n}`));
    expect(kms.calls()).toHaveLength(1);
    const decrypt = kms.commandCalls(DecryptCommand)[0]?.args[0].input;
    expect(decrypt?.KeyId).toBe(KEY_ARN);
    expect(decrypt?.EncryptionContext).toEqual({ purpose: 'hr-integrations-token-branch-key', branchKey: 'branch-000001' });
    expect(decrypt?.CiphertextBlob).toHaveLength(184);
  });

  it('still checks the token encryption context on the KMS path', async () => {
    const vault = newContainer();
    const sealed = await vault.seal('secret', contextFor(1));
    await expect(vault.open(sealed, contextFor(2))).rejects.toThrow(/another integration/);
  });

  it('rotates the branch key: new tokens use the new version, old ones still open', async () => {
    const container = new KmsBranchKeys(new KMSClient({}), KEY_ARN);
    const vault = new TokenVault(container);
    const old = await vault.seal('old', contextFor(1));
    const rotated = await container.rotate();
    const fresh = await vault.seal('new', contextFor(1));
    expect(fresh.keyName).toBe(rotated);
    expect(fresh.keyName).not.toBe(old.keyName);

    kms.resetHistory();
    const reader = newContainer();
    expect(String(await reader.open(old, contextFor(1)))).toBe('old');
    expect(String(await reader.open(fresh, contextFor(1)))).toBe('new');
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
  });

  it('unwraps again once the cached branch key is older than its TTL', async () => {
    let now = 1_000_000;
    const vault = new TokenVault(new KmsBranchKeys(new KMSClient({}), KEY_ARN, 60_000, () => now));
    const sealed = await vault.seal('t', contextFor(3));
    kms.resetHistory();
    await vault.open(sealed, contextFor(3));
    expect(kms.calls()).toHaveLength(0);
    now += 61_000;
    await vault.open(sealed, contextFor(3));
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
  });
});
