import * as z from 'zod';
import { parseEnv } from '../config';
import type { OAuthClient, ProviderOAuth } from './types';

/**
 * Which OAuth client and endpoints a provider uses: the real provider when
 * its client id and secret are set; otherwise, where the local runtime set
 * SANDBOX_BASE_URL, the sandbox (client `sandbox-<provider>-client`, each host
 * served under `<sandbox>/<provider>/<host>`); otherwise none (not configured).
 * The stack never sets SANDBOX_BASE_URL.
 */
const sandboxSchema = z.object({ SANDBOX_BASE_URL: z.url().optional() });

export function oauthClient(providerId: string, oauth: ProviderOAuth): OAuthClient | undefined {
  const credentials = parseEnv(
    z.object({
      [oauth.credentialEnv.clientId]: z.string().min(1).optional(),
      [oauth.credentialEnv.clientSecret]: z.string().min(1).optional(),
    }),
    Object.fromEntries(
      [oauth.credentialEnv.clientId, oauth.credentialEnv.clientSecret].map((name) => [name, process.env[name] || undefined]),
    ),
  );
  const clientId = credentials[oauth.credentialEnv.clientId];
  const clientSecret = credentials[oauth.credentialEnv.clientSecret];
  if (clientId && clientSecret) return { providerId, clientId, clientSecret, hosts: oauth.hosts, sandbox: false };

  const { SANDBOX_BASE_URL: sandbox } = parseEnv(sandboxSchema, { SANDBOX_BASE_URL: process.env.SANDBOX_BASE_URL || undefined });
  if (!sandbox) return undefined;
  const hosts = Object.fromEntries(Object.keys(oauth.hosts).map((host) => [host, `${sandbox}/${providerId}/${host}`]));
  return {
    providerId,
    clientId: `sandbox-${providerId}-client`,
    clientSecret: `sandbox-${providerId}-secret`,
    hosts,
    sandbox: true,
  };
}
