import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/**
 * Secrets the local runtime needs when the environment gives none: the token
 * encryption key, the HS256 secret of local JWTs and the key that seals
 * pagination cursors. Generated once and kept under DATA_DIR (mode 0600) so
 * tokens and stored data survive a restart.
 */
const secretsFileSchema = z.object({
  encryptionKey: z.string().regex(/^[0-9a-f]{64}$/),
  jwtSecret: z.string().min(32),
  cursorKey: z.string().min(32),
});

/** A file written before a key existed: the missing key is added, everything else in it kept as it is. */
const storedSecretsSchema = secretsFileSchema.partial({ cursorKey: true }).loose();

export type LocalSecrets = z.infer<typeof secretsFileSchema>;

export const secretsFile = (dataDir: string) => join(dataDir, 'local-secrets.json');

const newCursorKey = () => randomBytes(32).toString('base64url');

export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = secretsFile(dataDir);
  let stored: z.infer<typeof storedSecretsSchema>;
  try {
    stored = storedSecretsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} is unreadable or malformed; fix or delete it (deleting loses access to stored tokens)`);
    }
    return createSecrets(dataDir, file);
  }
  if (stored.cursorKey !== undefined) return secretsFileSchema.parse(stored);
  // Written whole to a new 0600 file, then renamed over the old one: a crash leaves the old file, never half of one.
  const upgrade = `${file}.${process.pid}.tmp`;
  writeFileSync(upgrade, `${JSON.stringify({ ...stored, cursorKey: newCursorKey() }, null, 2)}\n`, { mode: 0o600 });
  renameSync(upgrade, file);
  // Read back: a process upgrading at the same time may have renamed its file last, and the file's key is the key.
  return loadOrCreateLocalSecrets(dataDir);
}

function createSecrets(dataDir: string, file: string): LocalSecrets {
  const secrets: LocalSecrets = {
    encryptionKey: randomBytes(32).toString('hex'),
    jwtSecret: randomBytes(32).toString('base64url'),
    cursorKey: newCursorKey(),
  };
  mkdirSync(dataDir, { recursive: true });
  // `wx`: never overwrite a file another process created meanwhile.
  try {
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateLocalSecrets(dataDir);
    throw error;
  }
  return secrets;
}
