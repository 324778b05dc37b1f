import { resolve } from 'node:path';
import * as z from 'zod';
import { parseEnv } from '../../shared/config';
import { loadOrCreateLocalSecrets } from './secrets';

/** The local runtime's own variables (README: "Environment variables"). */
const localEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  APP_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TABLE_NAME: z.string().min(3).default('hr-integrations'),
  EVENT_BUS_NAME: z.string().min(1).default('hr-integrations'),
  LOCAL_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  INTEGRATION_ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters (a 256-bit key)')
    .optional(),
  CURSOR_SIGNING_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  LOCAL_SCHEDULER: z.enum(['on', 'off']).default('on'),
  LOCAL_TTL_SWEEP_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  LOCAL_SHUTDOWN_SECONDS: z.coerce.number().int().min(1).max(600).default(10),
});

export type LocalEnv = z.infer<typeof localEnvSchema> & { dataDir: string };

export function localEnv(): LocalEnv {
  const env = parseEnv(localEnvSchema, Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
  return { ...env, dataDir: resolve(env.DATA_DIR) };
}

/** The JWT secret, encryption key and cursor key: from the environment, else generated once under DATA_DIR. */
export function localKeys(env: LocalEnv): { jwtSecret: string; encryptionKey: string; cursorKey: string } {
  if (env.LOCAL_JWT_SECRET && env.INTEGRATION_ENCRYPTION_KEY && env.CURSOR_SIGNING_KEY) {
    return { jwtSecret: env.LOCAL_JWT_SECRET, encryptionKey: env.INTEGRATION_ENCRYPTION_KEY, cursorKey: env.CURSOR_SIGNING_KEY };
  }
  const stored = loadOrCreateLocalSecrets(env.dataDir);
  return {
    jwtSecret: env.LOCAL_JWT_SECRET ?? stored.jwtSecret,
    encryptionKey: env.INTEGRATION_ENCRYPTION_KEY ?? stored.encryptionKey,
    cursorKey: env.CURSOR_SIGNING_KEY ?? stored.cursorKey,
  };
}
