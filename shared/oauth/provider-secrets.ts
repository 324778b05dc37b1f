import * as z from 'zod';
import { secretOnce } from '../secrets-manager';

/**
 * In AWS the providers' client ids and secrets live in one Secrets Manager
 * secret (JSON, keys named like the environment variables: SLACK_CLIENT_ID…).
 * A function that talks to providers reads it once per container, before its
 * first request; the SDK is imported only then, so others pay nothing.
 *
 * Keys are provider settings, `<PROVIDER>_<NAME>` (each provider declares
 * its own beyond the client id and secret, e.g. MICROSOFT_TENANT): any such
 * name is accepted, so this module, which every webhook bundles, need not
 * know the providers. Names the runtime or the stack own are refused, and a
 * variable already set is never overridden.
 */
export const PROVIDER_SECRET_KEY = /^(?!(AWS|LAMBDA|NODE|POWERTOOLS|AMAZON)_)[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]$/;

const secretSchema = z.record(z.string().regex(PROVIDER_SECRET_KEY), z.string().min(1));

const loadFromSecret = secretOnce((secretString) => {
  const parsed = secretSchema.safeParse(JSON.parse(secretString || '{}'));
  if (!parsed.success) throw new Error('The provider credentials secret is not a JSON object of SLACK_CLIENT_ID-style keys');
  for (const [name, value] of Object.entries(parsed.data)) process.env[name] ??= value;
});

export function loadProviderCredentials(): Promise<void> {
  const secretArn = process.env.PROVIDER_CREDENTIALS_SECRET_ARN;
  return secretArn ? loadFromSecret(secretArn) : Promise.resolve();
}
