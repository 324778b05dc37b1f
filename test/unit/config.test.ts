import { afterEach, describe, expect, it, vi } from 'vitest';

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
  vi.resetModules();
});

async function freshConfig() {
  vi.resetModules();
  return import('../../shared/config');
}

describe('configuration', () => {
  it('names the variable that is missing', async () => {
    delete process.env.TABLE_NAME;
    const { tableConfig } = await freshConfig();
    expect(() => tableConfig()).toThrow(/TABLE_NAME/);
  });

  it('rejects an encryption key that is not 64 hex characters, naming it', async () => {
    process.env.INTEGRATION_ENCRYPTION_KEY = 'abc123';
    const { vaultConfig } = await freshConfig();
    expect(() => vaultConfig()).toThrow(/INTEGRATION_ENCRYPTION_KEY: must be 64 hexadecimal characters/);
  });

  it('uses KMS when TOKEN_KMS_KEY_ARN is set, the local keyring otherwise', async () => {
    process.env.TOKEN_KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect((await freshConfig()).vaultConfig()).toEqual({ mode: 'kms', kmsKeyArn: process.env.TOKEN_KMS_KEY_ARN });
    delete process.env.TOKEN_KMS_KEY_ARN;
    process.env.INTEGRATION_ENCRYPTION_PREVIOUS_KEYS = `${'0c'.repeat(32)}, ${'0d'.repeat(32)}`;
    expect((await freshConfig()).vaultConfig()).toEqual({
      mode: 'local',
      currentKeyHex: process.env.INTEGRATION_ENCRYPTION_KEY,
      previousKeysHex: ['0c'.repeat(32), '0d'.repeat(32)],
    });
  });

  it('rejects a malformed previous key and a non-URL app origin', async () => {
    process.env.INTEGRATION_ENCRYPTION_PREVIOUS_KEYS = 'nope';
    process.env.APP_BASE_URL = 'ftp://example.com';
    const config = await freshConfig();
    expect(() => config.vaultConfig()).toThrow(/INTEGRATION_ENCRYPTION_PREVIOUS_KEYS/);
    expect(() => config.appConfig()).toThrow(/APP_BASE_URL/);
  });
});
