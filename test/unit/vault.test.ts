import { describe, expect, it } from 'vitest';
import { TokenContextMismatchError, TokenVault, UnknownWrappingKeyError, type TokenContext } from '../../shared/crypto/vault';
import { StaticWrappingKeys } from '../../shared/crypto/wrapping-keys';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);
const context: TokenContext = { orgId: 'org-1', integrationId: 'int_01JD3X8Q9W7T5V4N2M1K0H8G6F', provider: 'slack', kind: 'slack-bot' };
const secret = 'xoxb-1234567890-abcdefghijklmnop';

describe('token vault (Encryption SDK, raw AES keyring)', () => {
  it('round-trips and the ciphertext holds no plaintext', async () => {
    const vault = new TokenVault(new StaticWrappingKeys(KEY_A));
    const sealed = await vault.seal(secret, context);
    expect(Buffer.from(sealed.ciphertext).toString('latin1')).not.toContain(secret);
    expect((await vault.open(sealed, context)).toString('utf8')).toBe(secret);
  });

  it('uses the committing suite without signatures (0x0478)', async () => {
    const vault = new TokenVault(new StaticWrappingKeys(KEY_A));
    const { ciphertext } = await vault.seal(secret, context);
    // Message format v2: byte 0 is the version (2), bytes 1-2 the algorithm suite id.
    expect(ciphertext[0]).toBe(0x02);
    expect(Buffer.from(ciphertext.subarray(1, 3)).readUInt16BE(0)).toBe(0x0478);
  });

  it.each(Object.keys(context) as Array<keyof TokenContext>)('refuses to open under another %s', async (field) => {
    const vault = new TokenVault(new StaticWrappingKeys(KEY_A));
    const sealed = await vault.seal(secret, context);
    await expect(vault.open(sealed, { ...context, [field]: `${context[field]}-other` })).rejects.toBeInstanceOf(
      TokenContextMismatchError,
    );
  });

  it('refuses a tampered blob', async () => {
    const vault = new TokenVault(new StaticWrappingKeys(KEY_A));
    const sealed = await vault.seal(secret, context);
    for (const position of [10, Math.floor(sealed.ciphertext.length / 2), sealed.ciphertext.length - 5]) {
      const tampered = Uint8Array.from(sealed.ciphertext);
      tampered[position] = (tampered[position] ?? 0) ^ 0x01;
      await expect(vault.open({ ...sealed, ciphertext: tampered }, context)).rejects.toThrow();
    }
  });

  it('keeps old blobs readable after a key rotation, and seals new ones with the new key', async () => {
    const before = new TokenVault(new StaticWrappingKeys(KEY_A));
    const old = await before.seal(secret, context);

    const after = new TokenVault(new StaticWrappingKeys(KEY_B, [KEY_A]));
    expect((await after.open(old, context)).toString()).toBe(secret);
    const fresh = await after.seal('new-token', context);
    expect(fresh.keyName).not.toBe(old.keyName);
    expect(await before.open(fresh, context).catch((error: unknown) => error)).toBeInstanceOf(UnknownWrappingKeyError);

    const retired = new TokenVault(new StaticWrappingKeys(KEY_B));
    await expect(retired.open(old, context)).rejects.toBeInstanceOf(UnknownWrappingKeyError);
  });

  it('refuses a blob claimed under the right key name but sealed by another key', async () => {
    const sealed = await new TokenVault(new StaticWrappingKeys(KEY_A)).seal(secret, context);
    const impostor = new StaticWrappingKeys(KEY_B);
    const wrongKeys = { current: () => impostor.current(), byName: async () => impostor.current() };
    await expect(new TokenVault(wrongKeys).open(sealed, context)).rejects.toThrow();
  });
});
