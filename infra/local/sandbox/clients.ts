/**
 * The only OAuth clients the sandbox knows. Any other client id (or a wrong
 * secret) gets the provider's own invalid-client answer.
 */
export const SANDBOX_CLIENTS = {
  slack: { clientId: 'sandbox-slack-client', clientSecret: 'sandbox-slack-secret' },
  google: { clientId: 'sandbox-google-client', clientSecret: 'sandbox-google-secret' },
  microsoft: { clientId: 'sandbox-microsoft-client', clientSecret: 'sandbox-microsoft-secret' },
} as const;

/** The real hosts of each provider; in the sandbox host `<key>` of provider `<p>` is served at `/<p>/<key>`. */
export const SANDBOX_PROVIDER_HOSTS = {
  slack: { slack: 'https://slack.com' },
  google: {
    accounts: 'https://accounts.google.com',
    oauth2: 'https://oauth2.googleapis.com',
    openidconnect: 'https://openidconnect.googleapis.com',
    www: 'https://www.googleapis.com',
    gmail: 'https://gmail.googleapis.com',
  },
  microsoft: { login: 'https://login.microsoftonline.com', graph: 'https://graph.microsoft.com' },
} as const;

export type SandboxHosts = { [P in keyof typeof SANDBOX_PROVIDER_HOSTS]: { [K in keyof (typeof SANDBOX_PROVIDER_HOSTS)[P]]: string } };

/**
 * The base URL of every provider host in a sandbox mounted at `sandboxUrl`
 * (e.g. `http://127.0.0.1:3000/sandbox`): replace the real host by these.
 */
export function sandboxHosts(sandboxUrl: string): SandboxHosts {
  const base = sandboxUrl.replace(/\/+$/, '');
  return {
    slack: { slack: `${base}/slack/slack` },
    google: {
      accounts: `${base}/google/accounts`,
      oauth2: `${base}/google/oauth2`,
      openidconnect: `${base}/google/openidconnect`,
      www: `${base}/google/www`,
      gmail: `${base}/google/gmail`,
    },
    microsoft: { login: `${base}/microsoft/login`, graph: `${base}/microsoft/graph` },
  };
}

/** Where the sandbox is mounted in the local runtime and in the standalone server. */
export const SANDBOX_PREFIX = '/sandbox';

/** Default accounts offered on the consent pages. */
export const SANDBOX_DEFAULT_ACCOUNTS = {
  slack: 'T0SANDBOX1',
  google: 'admin@sandbox-google.test',
  microsoft: 'admin@sandbox-contoso.test',
} as const;
