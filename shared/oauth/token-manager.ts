import { randomUUID } from 'node:crypto';
import { changeHealth } from '../domain/health';
import { disconnectDeadGrant } from '../domain/lifecycle';
import type { IntegrationRecord } from '../domain/integration';
import { logger } from '../logging/logger';
import { countMetric } from '../metrics';
import { findProvider } from '../providers/registry';
import {
  REFRESH_MARGIN_MS,
  acquireLease,
  commitRefresh,
  loadCredentials,
  releaseLease,
  type StoredCredentials,
  type TokenRef,
} from '../store/tokens';
import { oauthClient } from './clients';
import { ProviderError } from './errors';
import type { Credential, OAuthClient, ProviderOAuth } from './types';

/**
 * The one way to get a usable access token. It refreshes ahead of expiry
 * under a DynamoDB lease (one refresher per integration across every
 * container; the others wait and re-read), merges the provider's answer
 * without dropping an omitted refresh token, and stores a rotated refresh
 * token before anyone uses the new access token. A dead grant disconnects
 * the integration; a transient failure is retried with backoff and degrades it.
 */
export const LEASE_MS = 30_000;
const WAIT_LIMIT_MS = LEASE_MS + 5_000;
const TRANSIENT_ATTEMPTS = 3;

export class IntegrationUnavailableError extends Error {
  constructor(
    readonly integrationId: string,
    readonly reason: string,
  ) {
    super(`Integration ${integrationId} is unavailable: ${reason}`);
    this.name = 'IntegrationUnavailableError';
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Full jitter (AWS architecture blog): uniform in [0, base * 2^attempt], capped. */
export const backoffMs = (attempt: number, baseMs = 200, capMs = 5_000) => Math.random() * Math.min(capMs, baseMs * 2 ** attempt);

const refOf = (integration: IntegrationRecord): TokenRef => ({
  orgId: integration.orgId,
  integrationId: integration.id,
  providerId: integration.providerId,
});

function providerOAuth(integration: IntegrationRecord): { oauth: ProviderOAuth; client: OAuthClient } {
  const oauth = findProvider(integration.providerId)?.oauth;
  const client = oauth ? oauthClient(integration.providerId, oauth) : undefined;
  if (!oauth || !client) throw new IntegrationUnavailableError(integration.id, 'provider_not_configured');
  return { oauth, client };
}

const needsRefresh = (credential: Credential, now: number, horizonMs: number) =>
  credential.expiresAt !== undefined && Date.parse(credential.expiresAt) - Math.max(REFRESH_MARGIN_MS, horizonMs) <= now;

/** Merge: what the provider sent wins; a refresh token it omitted is kept. */
export const mergeCredential = (stored: Credential, fresh: Credential): Credential => ({
  ...stored,
  ...fresh,
  refreshToken: fresh.refreshToken ?? stored.refreshToken,
});

async function refreshAtProvider(oauth: ProviderOAuth, client: OAuthClient, credential: Credential): Promise<Credential> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await oauth.refresh({ client, credential });
    } catch (error) {
      if (!(error instanceof ProviderError) || !error.transient || attempt + 1 >= TRANSIENT_ATTEMPTS) throw error;
      const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : backoffMs(attempt);
      await sleep(Math.min(wait, 10_000));
    }
  }
}

export interface TokenRequest {
  /** Refresh even if not near expiry, unless someone already replaced `staleAccessToken` (after a provider 401). */
  force?: boolean;
  staleAccessToken?: string;
  /** Refresh when the token expires within this window (the sweep looks ahead to its next run). */
  horizonMs?: number;
}

/**
 * Callers in one container asking for the same credential at once share one
 * read (and at most one refresh attempt); across containers the lease does
 * the same job. Nothing is cached once the answer is in.
 */
const inFlight = new Map<string, Promise<GrantCredential>>();

/** A credential and the grant it belongs to, so a failure disconnects that grant and not a newer one. */
export type GrantCredential = Credential & { grantId?: string };

export function getCredential(integration: IntegrationRecord, kind: string, request: TokenRequest = {}): Promise<GrantCredential> {
  if (request.force || request.horizonMs !== undefined) return acquireCredential(integration, kind, request);
  const key = `${integration.orgId}#${integration.id}#${kind}`;
  let shared = inFlight.get(key);
  if (!shared) {
    shared = acquireCredential(integration, kind, request).finally(() => inFlight.delete(key));
    inFlight.set(key, shared);
  }
  return shared;
}

async function acquireCredential(integration: IntegrationRecord, kind: string, request: TokenRequest): Promise<GrantCredential> {
  if (integration.status !== 'active') throw new IntegrationUnavailableError(integration.id, integration.status);
  const ref = refOf(integration);
  const owner = randomUUID();
  const started = Date.now();
  for (let round = 0; ; round += 1) {
    const stored = await loadCredentials(ref);
    const credential = stored?.credentials.find((candidate) => candidate.kind === kind);
    if (!stored || !credential) throw new IntegrationUnavailableError(integration.id, 'no_credentials');
    const now = Date.now();
    const wanted = request.force
      ? credential.accessToken === request.staleAccessToken
      : needsRefresh(credential, now, request.horizonMs ?? 0);
    if (!wanted) return { ...credential, ...(stored.grantId ? { grantId: stored.grantId } : {}) };

    const leaseFree = !stored.lease || stored.lease.until < now;
    if (leaseFree && (await acquireLease(ref, owner, stored, LEASE_MS, now))) {
      return refreshUnderLease(integration, ref, owner, stored, credential);
    }
    if (Date.now() - started > WAIT_LIMIT_MS) throw new IntegrationUnavailableError(integration.id, 'refresh_lease_timeout');
    await sleep(50 + backoffMs(Math.min(round, 3), 50, 400));
  }
}

async function refreshUnderLease(
  integration: IntegrationRecord,
  ref: TokenRef,
  owner: string,
  stored: StoredCredentials,
  credential: Credential,
): Promise<GrantCredential> {
  const { oauth, client } = providerOAuth(integration);
  let merged: Credential;
  try {
    merged = mergeCredential(credential, await refreshAtProvider(oauth, client, credential));
  } catch (error) {
    await releaseLease(ref, owner);
    countMetric('TokenRefreshFailed');
    if (error instanceof ProviderError && error.terminal) {
      logger.warn('Grant revoked or expired at the provider; disconnecting', { integrationId: integration.id, errorCode: error.code });
      await disconnectDeadGrant(integration, error.code, stored.grantId);
      throw new IntegrationUnavailableError(integration.id, error.code);
    }
    const reason = error instanceof ProviderError ? `token_refresh_failed:${error.code}` : 'token_refresh_failed';
    logger.warn('Token refresh failed; will retry later', { integrationId: integration.id, reason });
    await changeHealth(integration.orgId, integration.id, { healthStatus: 'degraded', reason });
    throw error;
  }
  const credentials = stored.credentials.map((candidate) => (candidate.kind === merged.kind ? merged : candidate));
  // Persist first: a rotated refresh token is single-use, so it must be stored before the access token is used.
  if (!(await commitRefresh(ref, owner, stored.version, credentials))) {
    throw new IntegrationUnavailableError(integration.id, 'refresh_lease_lost');
  }
  countMetric('TokenRefreshed');
  if (integration.healthStatus === 'degraded' && integration.healthReason.startsWith('token_refresh_failed')) {
    await changeHealth(integration.orgId, integration.id, { healthStatus: 'healthy', reason: 'token_refreshed' });
  }
  return { ...merged, ...(stored.grantId ? { grantId: stored.grantId } : {}) };
}

/**
 * Runs a provider call with a valid access token; on a 401 it refreshes once
 * (unless another caller already did) and retries once.
 */
export async function withAccessToken<T>(
  integration: IntegrationRecord,
  kind: string,
  call: (accessToken: string) => Promise<T>,
): Promise<T> {
  const credential = await getCredential(integration, kind);
  try {
    try {
      return await call(credential.accessToken);
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== 'unauthorized') throw error;
      const fresh = await getCredential(integration, kind, { force: true, staleAccessToken: credential.accessToken });
      return await call(fresh.accessToken);
    }
  } catch (error) {
    // An API call can learn first that the grant is gone (Slack `token_revoked`, `account_inactive`).
    if (error instanceof ProviderError && error.terminal) {
      await disconnectDeadGrant(integration, error.code, credential.grantId);
      throw new IntegrationUnavailableError(integration.id, error.code);
    }
    throw error;
  }
}

/** Refreshes every stored credential of the integration (Slack: bot and user) that expires within the horizon. */
export async function refreshExpiringCredentials(integration: IntegrationRecord, horizonMs: number): Promise<void> {
  const stored = await loadCredentials(refOf(integration));
  for (const credential of stored?.credentials ?? []) {
    await getCredential(integration, credential.kind, { horizonMs });
  }
}
