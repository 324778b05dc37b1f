/**
 * Secrets Manager secrets a function reads once per container, on first use,
 * with the SDK imported only then, so functions that never need the secret pay
 * nothing for it. `use` turns the secret's string into what the caller keeps
 * (and may throw: a malformed secret is a configuration error). A failed read
 * is forgotten, so the next request tries again rather than failing forever.
 */
import { awsClientConfig, boundedByDeadline } from './deadline';

export function secretOnce<T>(use: (secretString: string) => T): (secretArn: string) => Promise<T> {
  let loading: Promise<T> | undefined;
  return (secretArn) => {
    loading ??= (async () => {
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const { SecretString } = await boundedByDeadline(new SecretsManagerClient(awsClientConfig())).send(new GetSecretValueCommand({ SecretId: secretArn }));
      return use(SecretString ?? '');
    })().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
