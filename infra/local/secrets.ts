import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/**
 * Secrets the local runtime needs when the environment gives none: the token
 * encryption key and the HS256 secret of local JWTs. Generated once and kept
 * under DATA_DIR (mode 0600) so tokens and stored data survive a restart.
 */
const secretsFileSchema = z.object({
  encryptionKey: z.string().regex(/^[0-9a-f]{64}$/),
  jwtSecret: z.string().min(32),
});

export type LocalSecrets = z.infer<typeof secretsFileSchema>;

export const secretsFile = (dataDir: string) => join(dataDir, 'local-secrets.json');

export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  const file = secretsFile(dataDir);
  try {
    return secretsFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${file} is unreadable or malformed; fix or delete it (deleting loses access to stored tokens)`);
    }
  }
  const secrets: LocalSecrets = {
    encryptionKey: randomBytes(32).toString('hex'),
    jwtSecret: randomBytes(32).toString('base64url'),
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
