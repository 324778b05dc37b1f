import * as z from 'zod';
import { secretOnce } from '../secrets-manager';

/**
 * In AWS the providers' client ids and secrets live in one Secrets Manager
 * secret (JSON, keys named like the environment variables: SLACK_CLIENT_ID…).
 * A function that talks to providers reads it once per container, before its
 * first request; the SDK is imported only then, so others pay nothing.
 */
const secretSchema = z.record(z.string().regex(/^([A-Z]+_CLIENT_(ID|SECRET)|[A-Z]+_SIGNING_SECRET|MICROSOFT_TENANT)$/), z.string().min(1));

const loadFromSecret = secretOnce((secretString) => {
  const parsed = secretSchema.safeParse(JSON.parse(secretString || '{}'));
  if (!parsed.success) throw new Error('The provider credentials secret is not a JSON object of SLACK_CLIENT_ID-style keys');
  for (const [name, value] of Object.entries(parsed.data)) process.env[name] ??= value;
});

export function loadProviderCredentials(): Promise<void> {
  const secretArn = process.env.PROVIDER_CREDENTIALS_SECRET_ARN;
  return secretArn ? loadFromSecret(secretArn) : Promise.resolve();
}
