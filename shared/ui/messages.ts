/**
 * What the page says, in plain words: the outcome of a connection (every
 * error code the OAuth callback can send back, and the completion's own
 * refusals), the troubleshooting advice for each, and what a health reason
 * code means. Codes come from the API; people read sentences.
 */
export interface Outcome {
  tone: 'success' | 'error';
  title: string;
  detail?: string;
  advice?: string[];
}

const AUTHORIZATION_ADVICE = [
  'Check that you are an admin of the workspace or account you are connecting.',
  'Allow pop-ups and redirects for this site, then try again.',
  'Try again in a private (incognito) window.',
  'Clear this site’s cache and cookies, then try again.',
];

/** The callback's `?error=` codes (see the OAuth callback): a title, what happened, and what to try. */
export function callbackOutcome(code: string, providerName: string): Outcome {
  switch (code) {
    case 'access_denied':
      return {
        tone: 'error',
        title: `${providerName} was not connected: access was denied`,
        detail: `You (or ${providerName}) declined the request, so nothing was connected.`,
        advice: [
          'Connect again and choose Allow, granting every permission listed.',
          `Check that your ${providerName} admin has allowed this app to be installed.`,
        ],
      };
    case 'invalid_state':
      return {
        tone: 'error',
        title: `${providerName} was not connected: the sign-in link expired or was already used`,
        detail: 'A connection request is valid for 10 minutes and can be used once.',
        advice: [
          'Start again with Connect on this page and finish within 10 minutes.',
          'Do not reuse an old tab or the browser’s Back button during the sign-in.',
        ],
      };
    case 'authorization_failed':
      return { tone: 'error', title: `${providerName} was not connected: authorization failed`, detail: `${providerName} reported an error during sign-in.`, advice: AUTHORIZATION_ADVICE };
    case 'invalid_request':
      return {
        tone: 'error',
        title: `${providerName} was not connected: the sign-in came back incomplete`,
        detail: `${providerName} returned without an authorization code.`,
        advice: ['Start again with Connect.', ...AUTHORIZATION_ADVICE.slice(1, 3)],
      };
    case 'provider_unavailable':
      return {
        tone: 'error',
        title: `${providerName} is not set up on this platform yet`,
        detail: `The ${providerName} app that this platform signs in with is not configured.`,
        advice: ['Contact your administrator: the OAuth app (client id and secret, redirect URI) must be configured.'],
      };
    case 'exchange_failed':
      return {
        tone: 'error',
        title: `${providerName} was not connected: ${providerName} refused the sign-in`,
        detail: `${providerName} did not accept the authorization code (it may have expired, or the app's settings changed).`,
        advice: ['Start again with Connect.', 'If it happens again, contact your administrator: the OAuth app’s redirect URI or secret may be wrong.'],
      };
    case 'server_error':
      return {
        tone: 'error',
        title: `${providerName} was not connected: something went wrong on our side`,
        detail: 'Nothing was stored.',
        advice: ['Try again in a few minutes.', 'If it keeps happening, contact support.'],
      };
    default:
      return { tone: 'error', title: `${providerName} was not connected`, advice: ['Start again with Connect.', ...AUTHORIZATION_ADVICE.slice(0, 1)] };
  }
}

function accountMismatch(providerName: string, expectedAccount: string | undefined): Outcome {
  const expected = expectedAccount ? ` (${expectedAccount})` : '';
  return {
    tone: 'error',
    title: `${providerName} was not reconnected: that is a different account`,
    detail: `You signed in to another ${providerName} account than the one this integration uses${expected}. Nothing was changed.`,
    advice: [
      `Reconnect again and sign in as ${expectedAccount ?? 'the account shown in the list'}.`,
      'To add the other account as well, use Connect instead of Reconnect.',
    ],
  };
}

/**
 * The completion's refusals (`POST /api/integrations/connect/complete`), told
 * apart by the API's error code; `expectedAccount` names the account a
 * reconnect started on this page expected, when it knows.
 */
export function completionOutcome(refusal: { status: number; code: string }, providerName: string, expectedAccount: string | undefined): Outcome {
  const { status, code } = refusal;
  if (code === 'account_mismatch') return accountMismatch(providerName, expectedAccount);
  if (status === 409) {
    return {
      tone: 'error',
      title: `${providerName} was not connected: the account was disconnected meanwhile`,
      detail: 'The account was disconnected while you were signing in, which withdrew that sign-in.',
      advice: ['Connect it again.'],
    };
  }
  if (status === 404) {
    return {
      tone: 'error',
      title: `${providerName} was not connected: this sign-in is no longer valid`,
      detail: 'It expired (after 10 minutes), was already used, or was started by someone else.',
      advice: ['Start again with Connect, signed in as yourself, and finish within 10 minutes.'],
    };
  }
  if (status === 403) return { tone: 'error', title: `You cannot connect ${providerName}`, detail: 'Only admins and HR can connect integrations.' };
  return { tone: 'error', title: `${providerName} was not connected: something went wrong`, advice: ['Try again in a few minutes.', 'If it keeps happening, contact support.'] };
}

const REASONS: Record<string, string> = {
  connected: 'Connected; the first sync is on its way.',
  reconnected: 'Reconnected.',
  synced: 'The last sync succeeded.',
  sync_running: 'A sync is running now.',
  token_refreshed: 'Access was renewed.',
  health_check_passed: 'The last health check passed.',
  token_refresh_failed: 'Renewing access failed; it will be retried. Reconnect if it persists.',
  sync_failing: 'Syncs keep failing. Check the sync logs, then try Sync now or Reconnect.',
  degraded_for_an_hour: 'Degraded for more than an hour. Try Reconnect.',
  webhook_setup_failed: 'Real-time updates could not be set up; scheduled syncs still run.',
  webhook_lapsed: 'Real-time updates lapsed; scheduled syncs still run.',
  subscription_renewal_failed: 'Renewing real-time updates failed; it will be retried.',
  user_disconnected: 'Disconnected by a person on this page or through the API.',
  tokens_revoked: 'Access was revoked at the provider. Reconnect to restore it.',
  user_token_revoked: 'The user’s access was revoked at the provider. Reconnect to restore it.',
  app_uninstalled: 'The app was uninstalled at the provider. Reconnect to restore it.',
  invalid_grant: 'The provider no longer accepts this connection (revoked or expired). Reconnect.',
  invalid_refresh_token: 'The provider no longer accepts this connection. Reconnect.',
  token_revoked: 'Access was revoked at the provider. Reconnect to restore it.',
  account_inactive: 'The account is inactive at the provider.',
};

/** A health reason code (`synced`, `sync_failed:rate_limited`, …) as a sentence. */
export function describeReason(reason: string): string {
  const known = REASONS[reason];
  if (known) return known;
  const [head, cause] = reason.split(':', 2);
  if (head === 'sync_failed') return `The last sync failed (${humanise(cause ?? 'unknown error')}). It will be retried.`;
  if (head === 'health_check_failed') return `The last health check failed (${humanise(cause ?? 'unknown error')}). Try again later, or Reconnect.`;
  const prefixed = head ? REASONS[head] : undefined;
  if (prefixed) return prefixed;
  return `${humanise(reason)}.`.replace(/^./, (first) => first.toUpperCase());
}

export const humanise = (code: string) => code.replace(/[_:.]+/g, ' ').trim();
