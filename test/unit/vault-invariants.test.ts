import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { TokenContextMismatchError, TokenVault, UnknownWrappingKeyError, type TokenContext } from '../../shared/crypto/vault';
import { StaticWrappingKeys } from '../../shared/crypto/wrapping-keys';

/**
 * The vault's format is a stored contract (tokens sealed today must open after
 * any release) and its context check is a security boundary: a blob opens only
 * under exactly the context it was sealed with, no key more, no key less.
 */
const KEY = 'c3'.repeat(32);
const context: TokenContext = { orgId: 'org-golden', integrationId: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F', provider: 'slack', kind: 'slack-bot' };
const expectedHeaderContext = { app: 'hr-integrations', ...context };

// Sealed once by this vault with KEY: every release must keep opening it.
const GOLDEN = {
  keyName: 'local-4b80290f1d4d74e6',
  plaintext: 'xoxb-golden-token',
  ciphertext:
    'AgR47gc0dOKUX221x8IVIbA2Vmy3Ax0m010RSgkn1LUZ/xcAfAAFAANhcHAAD2hyLWludGVncmF0aW9ucwANaW50ZWdyYXRpb25JZAAeaW50XzAxSkQzWDhROVc3VDVWNE4yTTFLMEg4RzZGAARraW5kAAlzbGFjay1ib3QABW9yZ0lkAApvcmctZ29sZGVuAAhwcm92aWRlcgAFc2xhY2sAAQAPaHItaW50ZWdyYXRpb25zACpsb2NhbC00YjgwMjkwZjFkNGQ3NGU2AAAAgAAAAAwE3cpWXQv8OF1gsdoAMDNjpU1hvxfXwmwnqmDp0c5XefAFvM65fkMRb/odedy+YJQJ95e9XT+KTGIGxcHcNQIAABAAgJDlqPjW4Yj+y9vZuaaWMKKKkt4tekDOAnKITB80P4BLpp1vGkIqJVTFJ/imAJSV/////wAAAAEAAAAAAAAAAAAAAAEAAAARST06KjiMHQHukYF9kZvzFXBUtIDtmcfxX0U4DERK5uHt',
};

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** The vault's keyring, built independently with the SDK: namespace `hr-integrations`, the key's fingerprint name. */
async function rawKeyring(): Promise<RawAesKeyringNode> {
  const key = await new StaticWrappingKeys(KEY).current();
  return new RawAesKeyringNode({
    keyName: key.name,
    keyNamespace: 'hr-integrations',
    unencryptedMasterKey: Uint8Array.from(key.material),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });
}

/** A blob sealed with the vault's own key but an encryption context of our choosing. */
async function sealWithContext(encryptionContext: Record<string, string>) {
  const { result } = await encrypt(await rawKeyring(), 'xoxb-forged-context', {
    encryptionContext,
    suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  });
  return { keyName: (await new StaticWrappingKeys(KEY).current()).name, ciphertext: result };
}

const vault = () => new TokenVault(new StaticWrappingKeys(KEY));

describe('token vault: the encryption context must match exactly', () => {
  it('opens a blob whose context is exactly the expected one (the control case)', async () => {
    const sealed = await sealWithContext(expectedHeaderContext);
    expect((await vault().open(sealed, context)).toString('utf8')).toBe('xoxb-forged-context');
  });

  it('refuses a blob with one extra context key, even when every expected key matches', async () => {
    const sealed = await sealWithContext({ ...expectedHeaderContext, scope: 'admin' });
    await expect(vault().open(sealed, context)).rejects.toBeInstanceOf(TokenContextMismatchError);
  });

  it.each(Object.keys(expectedHeaderContext))('refuses a blob whose context lacks %s', async (missing) => {
    const partial = Object.fromEntries(Object.entries(expectedHeaderContext).filter(([name]) => name !== missing));
    await expect(vault().open(await sealWithContext(partial), context)).rejects.toBeInstanceOf(TokenContextMismatchError);
  });

  it('refuses a blob of another application', async () => {
    const sealed = await sealWithContext({ ...expectedHeaderContext, app: 'another-app' });
    await expect(vault().open(sealed, context)).rejects.toBeInstanceOf(TokenContextMismatchError);
  });

  it('names the mismatch without revealing either context', async () => {
    const error = await vault()
      .open(await sealWithContext({ ...expectedHeaderContext, extra: 'x' }), context)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenContextMismatchError);
    expect(error).toMatchObject({ name: 'TokenContextMismatchError', message: 'The sealed token belongs to another integration or kind' });
  });
});

describe('token vault: the stored format', () => {
  it('still opens a blob sealed by an earlier release', async () => {
    const sealed = { keyName: GOLDEN.keyName, ciphertext: Uint8Array.from(Buffer.from(GOLDEN.ciphertext, 'base64')) };
    expect((await vault().open(sealed, context)).toString('utf8')).toBe(GOLDEN.plaintext);
  });

  it('seals under the current key with the documented context, readable by the SDK alone', async () => {
    const sealed = await vault().seal(new TextEncoder().encode('xoxb-bytes'), context);
    expect(sealed.keyName).toBe(GOLDEN.keyName);
    const { plaintext, messageHeader } = await decrypt(await rawKeyring(), sealed.ciphertext);
    expect(Buffer.from(plaintext).toString('utf8')).toBe('xoxb-bytes');
    expect({ ...messageHeader.encryptionContext }).toEqual(expectedHeaderContext);
    expect(messageHeader.suiteId).toBe(AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY);
  });

  it('reuses one keyring per key across seals and opens', async () => {
    const shared = vault();
    const first = await shared.seal('one', context);
    const second = await shared.seal('two', context);
    expect((await shared.open(first, context)).toString()).toBe('one');
    expect((await shared.open(second, context)).toString()).toBe('two');
  });

  it('refuses an unknown key name, naming it', async () => {
    const sealed = await vault().seal('x', context);
    const error = await vault()
      .open({ ...sealed, keyName: 'local-0000000000000000' }, context)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownWrappingKeyError);
    expect(error).toMatchObject({ name: 'UnknownWrappingKeyError', message: 'No wrapping key named local-0000000000000000' });
  });
});

describe('token vault: JSON', () => {
  const schema = z.object({ accessToken: z.string(), expiresAt: z.number() });

  it('round-trips JSON through the schema', async () => {
    const value = { accessToken: 'xoxb-json', expiresAt: 42 };
    const sealed = await vault().sealJson(value, context);
    expect(await vault().openJson(sealed, context, schema)).toEqual(value);
    const { plaintext } = await decrypt(await rawKeyring(), sealed.ciphertext);
    expect(JSON.parse(Buffer.from(plaintext).toString('utf8'))).toEqual(value);
  });

  it('refuses JSON that does not fit the schema, and JSON under another context', async () => {
    const sealed = await vault().sealJson({ accessToken: 1 }, context);
    await expect(vault().openJson(sealed, context, schema)).rejects.toThrow(z.ZodError);
    const good = await vault().sealJson({ accessToken: 'a', expiresAt: 1 }, context);
    await expect(vault().openJson(good, { ...context, kind: 'oauth' }, schema)).rejects.toBeInstanceOf(TokenContextMismatchError);
  });
});
