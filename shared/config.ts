import * as z from 'zod';

/**
 * Configuration is read from the environment, parsed by zod and cached per
 * section, so a function only needs the variables of the parts it uses (a
 * webhook function never needs the encryption key). A bad or missing variable
 * fails at cold start with its name.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function parseEnv<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
}

const hexKey = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters (a 256-bit key)');

const emptyAsUndefined = (value: unknown) => (value === '' ? undefined : value);

const tableSchema = z.object({
  TABLE_NAME: z.string().min(3, 'must name the DynamoDB table'),
});

const kmsVaultSchema = z.object({
  TOKEN_KMS_KEY_ARN: z.string().startsWith('arn:', 'must be a KMS key ARN'),
});

const localVaultSchema = z.object({
  INTEGRATION_ENCRYPTION_KEY: hexKey,
  INTEGRATION_ENCRYPTION_PREVIOUS_KEYS: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .transform((value) => value.split(',').map((key) => key.trim()))
      .pipe(z.array(hexKey))
      .optional(),
  ),
});

const eventsSchema = z.object({
  EVENT_BUS_NAME: z.string().min(1, 'must name the EventBridge bus'),
});

const appSchema = z.object({
  APP_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
});

const apiSchema = z.object({
  API_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
});

export type VaultConfig =
  | { mode: 'kms'; kmsKeyArn: string }
  | { mode: 'local'; currentKeyHex: string; previousKeysHex: string[] };

function once<T>(load: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: load() }).v;
}

export const tableConfig = once(() => ({ tableName: parseEnv(tableSchema).TABLE_NAME }));

/** KMS when TOKEN_KMS_KEY_ARN is set (AWS), otherwise the local keyring. */
export const vaultConfig = once((): VaultConfig => {
  if (emptyAsUndefined(process.env.TOKEN_KMS_KEY_ARN) !== undefined) {
    return { mode: 'kms', kmsKeyArn: parseEnv(kmsVaultSchema).TOKEN_KMS_KEY_ARN };
  }
  const env = parseEnv(localVaultSchema);
  return {
    mode: 'local',
    currentKeyHex: env.INTEGRATION_ENCRYPTION_KEY,
    previousKeysHex: env.INTEGRATION_ENCRYPTION_PREVIOUS_KEYS ?? [],
  };
});

export const eventsConfig = once(() => ({ eventBusName: parseEnv(eventsSchema).EVENT_BUS_NAME }));

export const appConfig = once(() => {
  const env = parseEnv(appSchema);
  return { appBaseUrl: new URL(env.APP_BASE_URL) };
});

/** The API's public origin: OAuth redirect URIs are built on it and must match the provider's registration. */
export const apiConfig = once(() => ({ apiBaseUrl: parseEnv(apiSchema).API_BASE_URL.replace(/\/+$/, '') }));
