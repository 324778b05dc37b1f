import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateLocalSecrets, secretsFile } from '../../infra/local/secrets';

/** DATA_DIR/local-secrets.json: generated once (0600); a file from before the cursor key gains one and keeps the rest. */
const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'hr-integrations-secrets-'));
  dirs.push(dir);
  return dir;
};
const mode = (file: string) => statSync(file).mode & 0o777;

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('local secrets', () => {
  it('are generated on a fresh DATA_DIR with a cursor key, mode 0600, and the same on the next start', () => {
    const dir = dataDir();
    const first = loadOrCreateLocalSecrets(dir);
    expect(first.cursorKey.length).toBeGreaterThanOrEqual(32);
    expect(first.cursorKey).not.toBe(first.jwtSecret);
    expect(mode(secretsFile(dir))).toBe(0o600);
    expect(loadOrCreateLocalSecrets(dir)).toEqual(first);
  });

  it('a file written before the cursor key gets one, keeps every other key, and stays 0600', () => {
    const dir = dataDir();
    const older = { encryptionKey: 'ab'.repeat(32), jwtSecret: 'j'.repeat(43), somethingLater: 'kept' };
    writeFileSync(secretsFile(dir), JSON.stringify(older), { mode: 0o600 });
    chmodSync(secretsFile(dir), 0o600);

    const upgraded = loadOrCreateLocalSecrets(dir);
    expect(upgraded).toMatchObject({ encryptionKey: older.encryptionKey, jwtSecret: older.jwtSecret });
    expect(upgraded.cursorKey.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(readFileSync(secretsFile(dir), 'utf8'))).toEqual({ ...older, cursorKey: upgraded.cursorKey });
    expect(mode(secretsFile(dir))).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['local-secrets.json']);
    expect(loadOrCreateLocalSecrets(dir).cursorKey).toBe(upgraded.cursorKey);
  });

  it('a malformed file is reported, not replaced', () => {
    const dir = dataDir();
    writeFileSync(secretsFile(dir), '{"encryptionKey": 1}', { mode: 0o600 });
    expect(() => loadOrCreateLocalSecrets(dir)).toThrow(/malformed; fix or delete it/);
    expect(readFileSync(secretsFile(dir), 'utf8')).toBe('{"encryptionKey": 1}');
  });
});
