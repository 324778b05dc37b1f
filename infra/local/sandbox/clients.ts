/**
 * The sandbox's provider registry: each fake provider's real hosts and the
 * account its consent page offers. Adding a fake is an entry here and its
 * factory in `sandbox.ts`; ids, OAuth clients and mounted hosts derive from it.
 */
export const SANDBOX_PROVIDERS = {
  slack: { hosts: { slack: 'https://slack.com' }, defaultAccount: 'T0SANDBOX1' },
  google: {
    hosts: {
      accounts: 'https://accounts.google.com',
      oauth2: 'https://oauth2.googleapis.com',
      openidconnect: 'https://openidconnect.googleapis.com',
      www: 'https://www.googleapis.com',
      gmail: 'https://gmail.googleapis.com',
    },
    defaultAccount: 'admin@sandbox-google.test',
  },
  microsoft: { hosts: { login: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' }, defaultAccount: 'admin@sandbox-contoso.test' },
  asana: { hosts: { app: 'https://app.asana.com' }, defaultAccount: 'admin@sandbox-asana.test' },
  notion: { hosts: { api: 'https://api.notion.com' }, defaultAccount: 'admin@sandbox-notion.test' },
} as const;

type SandboxProviderId = keyof typeof SANDBOX_PROVIDERS;
const ids = Object.keys(SANDBOX_PROVIDERS) as SandboxProviderId[];
const byProvider = <T>(value: (id: SandboxProviderId) => T) => Object.fromEntries(ids.map((id) => [id, value(id)])) as { [P in SandboxProviderId]: T };

/**
 * The only OAuth clients the sandbox knows. Any other client id (or a wrong
 * secret) gets the provider's own invalid-client answer.
 */
export const SANDBOX_CLIENTS = byProvider((id) => ({ clientId: `sandbox-${id}-client`, clientSecret: `sandbox-${id}-secret` }));

/** The real hosts of each provider; in the sandbox host `<key>` of provider `<p>` is served at `/<p>/<key>`. */
export const SANDBOX_PROVIDER_HOSTS: { [P in SandboxProviderId]: (typeof SANDBOX_PROVIDERS)[P]['hosts'] } = byProvider((id) => SANDBOX_PROVIDERS[id].hosts) as never;

export type SandboxHosts = { [P in SandboxProviderId]: { [K in keyof (typeof SANDBOX_PROVIDERS)[P]['hosts']]: string } };

/**
 * The base URL of every provider host in a sandbox mounted at `sandboxUrl`
 * (e.g. `http://127.0.0.1:3000/sandbox`): replace the real host by these.
 */
export function sandboxHosts(sandboxUrl: string): SandboxHosts {
  const base = sandboxUrl.replace(/\/+$/, '');
  return byProvider((id) => Object.fromEntries(Object.keys(SANDBOX_PROVIDERS[id].hosts).map((host) => [host, `${base}/${id}/${host}`]))) as SandboxHosts;
}

/** Where the sandbox is mounted in the local runtime and in the standalone server. */
export const SANDBOX_PREFIX = '/sandbox';

/** Default accounts offered on the consent pages. */
export const SANDBOX_DEFAULT_ACCOUNTS = byProvider((id) => SANDBOX_PROVIDERS[id].defaultAccount) as { [P in SandboxProviderId]: (typeof SANDBOX_PROVIDERS)[P]['defaultAccount'] };
