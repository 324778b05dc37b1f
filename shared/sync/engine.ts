import { randomUUID } from 'node:crypto';
import { raiseAlert } from '../domain/alerts';
import { changeHealth } from '../domain/health';
import type { IntegrationRecord } from '../domain/integration';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { oauthClient } from '../oauth/clients';
import { remainingMs } from '../deadline';
import { countMetric } from '../metrics';
import { ProviderError, errorCodeOf } from '../oauth/errors';
import { IntegrationUnavailableError, withAccessToken } from '../oauth/token-manager';
import { findProvider } from '../providers/registry';
import { getIntegration } from '../store/integrations';
import {
  SYNC_INTERVAL_MS,
  acquireSyncLease,
  loadCursor,
  readSyncLease,
  releaseSyncLease,
  renewSyncLease,
  saveCursor,
  syncKeys,
  syncScheduleAttributes,
  syncLogKey,
  writeSyncLog,
  type SyncLog,
} from '../store/sync';
import { writeRecords } from '../store/record-writes';
import { expireIfErased } from '../store/retention';
import { CursorResetError, type ProviderSync } from './types';

/**
 * One sync of one integration: a lease so only one runs (others coalesce
 * into one more pass), `syncing` while it runs, each enabled resource pulled
 * page by page with its records stored before its cursor (a crash loses and
 * duplicates nothing; the next run resumes), a sync log, health, and
 * `integration.synced`. Transient failures are rethrown so the event's retry
 * policy and dead-letter queue take over; three in a row raise an alert.
 */
/**
 * The lease is short and renewed on every page, so a sync that crashed (or a
 * Lambda that timed out) blocks the integration for a minute at most: the
 * next request takes the stale lease over.
 */
export const SYNC_LEASE_MS = 60 * 1000;
const MAX_PASSES = 3;
const ALERT_AFTER_FAILURES = 3;
const MAX_PAGES_PER_RESOURCE = 10_000;
/** A run with less time than this left stops between pages and hands over to a new invocation. */
export const SYNC_STOP_MARGIN_MS = 60_000;

export interface SyncRequest {
  orgId: string;
  integrationId: string;
  trigger: string;
  /** Names the run: a retry of the same request (the same event) updates the same log. */
  syncId?: string;
  /** When the run was asked for (the event's time); with the sync id it keys the log. */
  requestedAt?: string;
  /** Only these resources (a webhook names the one that changed). */
  resources?: string[];
  /** Ignore stored cursors (a provider lost notifications). */
  full?: boolean;
  /** Sync ids of earlier requests this run serves (they coalesced into a run that had no pass left for them). */
  covers?: string[];
}

export type SyncOutcome = 'succeeded' | 'failed' | 'skipped' | 'coalesced';

type Counts = SyncLog['counts'];

export function enabledResources(integration: IntegrationRecord, sync: ProviderSync, requested?: string[]): string[] {
  return Object.keys(sync.resources).filter(
    (resource) => integration.settings?.resources[resource] !== false && (!requested || requested.includes(resource)),
  );
}

/**
 * The run must stop between pages: the integration was disconnected or
 * erased, another run took the lease over, or the function is about to run
 * out of time (a Lambda timeout would kill it mid-page and leave it `syncing`).
 */
class SyncStopped extends Error {
  constructor(readonly why: 'disconnected' | 'erased' | 'lease_lost' | 'out_of_time') {
    super(why);
  }
}

/** The provider's sync definition; replaceable so the engine's guarantees can be tested with any page sequence. */
export type SyncLookup = (providerId: string) => ProviderSync | undefined;
const registrySync: SyncLookup = (providerId) => findProvider(providerId)?.sync;

export async function runSync(request: SyncRequest, lookup: SyncLookup = registrySync): Promise<SyncOutcome> {
  const integration = await getIntegration(request.orgId, request.integrationId);
  const sync = integration ? lookup(integration.providerId) : undefined;
  if (!integration || integration.status !== 'active' || !sync) return 'skipped';

  const owner = randomUUID();
  const syncId = request.syncId ?? randomUUID();
  let covers = request.covers ?? [];
  if (!(await acquireSyncLease(request.orgId, request.integrationId, owner, SYNC_LEASE_MS, Date.now(), syncId))) {
    const takenOver = await takeOverIfHolderDied(request, owner);
    if (!takenOver) return 'coalesced';
    covers = [...new Set([...covers, ...takenOver.filter((id) => id !== syncId)])];
  }
  let outcome: SyncOutcome = 'skipped';
  let pass: PassIdentity = { syncId, ...(request.requestedAt ? { requestedAt: request.requestedAt } : {}), covers };
  for (let passes = 1; ; passes += 1) {
    const passStarted = Date.now();
    const lease: Lease = { owner, orgId: request.orgId, integrationId: request.integrationId };
    try {
      outcome = await syncPass(integration.id, request, pass, sync, lease);
    } catch (error) {
      await releaseSyncLease(request.orgId, request.integrationId, owner, passStarted);
      throw error;
    }
    const waiting = await releaseSyncLease(request.orgId, request.integrationId, owner, passStarted);
    if (!waiting.pending || outcome !== 'succeeded') break;
    if (passes >= MAX_PASSES) {
      // Bounded work per invocation: what still waits becomes one new request, served by a later run.
      await requestFollowUp(request, waiting.syncIds);
      break;
    }
    if (!(await acquireSyncLease(request.orgId, request.integrationId, owner, SYNC_LEASE_MS))) break;
    // The next pass serves the requests that waited; its log names them.
    pass = { syncId: waiting.syncIds[0] ?? randomUUID(), covers: waiting.syncIds };
  }
  return outcome;
}

const LEASE_POLL_MS = 500;

/**
 * A request that found the lease held left a note in it for the holder. A live
 * holder renews the lease on every page and serves the note when it releases
 * the lease; a dead one (kill -9, a Lambda timeout) never will. So the request
 * watches the lease until it is renewed or released (the holder is alive: done)
 * or runs out (the holder died): then it takes the lease over and runs itself,
 * serving every request noted in it. Returns those notes when it took over.
 */
async function takeOverIfHolderDied(request: SyncRequest, owner: string): Promise<string[] | undefined> {
  const seen = await readSyncLease(request.orgId, request.integrationId);
  if (!seen) return undefined;
  const left = remainingMs();
  if (left !== undefined && left < seen.until - Date.now() + SYNC_STOP_MARGIN_MS) return undefined;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(LEASE_POLL_MS, seen.until - Date.now() + 1))));
    const now = await readSyncLease(request.orgId, request.integrationId);
    if (!now || now.until !== seen.until) return undefined;
    if (now.until < Date.now() && (await acquireSyncLease(request.orgId, request.integrationId, owner, SYNC_LEASE_MS))) return now.pendingSyncIds;
  }
}

async function requestFollowUp(request: SyncRequest, waiting: string[]): Promise<void> {
  const [syncId, ...covers] = waiting;
  const integration = await getIntegration(request.orgId, request.integrationId);
  if (!integration || integration.status !== 'active') return;
  await publishEvents([
    {
      type: 'SyncRequested',
      orgId: request.orgId,
      integrationId: request.integrationId,
      detail: { providerId: integration.providerId, trigger: 'coalesced', ...(syncId ? { syncId } : {}), ...(covers.length > 0 ? { covers } : {}) },
    },
  ]);
}

interface PassIdentity {
  syncId: string;
  requestedAt?: string;
  covers: string[];
}

interface Lease {
  owner: string;
  orgId: string;
  integrationId: string;
}

async function syncPass(integrationId: string, request: SyncRequest, pass: PassIdentity, sync: ProviderSync, lease: Lease): Promise<SyncOutcome> {
  const started = new Date();
  const current = await getIntegration(request.orgId, integrationId);
  const provider = current ? findProvider(current.providerId) : undefined;
  const client = provider?.oauth ? oauthClient(current?.providerId ?? '', provider.oauth) : undefined;
  if (!current || current.status !== 'active' || !client) return 'skipped';

  // `syncing` shows in the API while it runs; whether anything is announced is decided when it ends.
  const before = { healthStatus: current.healthStatus, healthReason: current.healthReason };
  await changeHealth(current.orgId, current.id, { healthStatus: 'syncing', reason: 'sync_running', announceAgainst: 'never' });
  const counts: Counts = {};
  const { syncId } = pass;
  const log = (outcome: SyncLog['outcome'], errorCode?: string): Omit<SyncLog, 'attempts'> => {
    const endedAt = new Date();
    return {
      syncId,
      ...(pass.requestedAt ? { requestedAt: pass.requestedAt } : {}),
      ...(pass.covers.length > 0 ? { covers: pass.covers } : {}),
      trigger: request.trigger,
      startedAt: started.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - started.getTime(),
      outcome,
      counts,
      ...(errorCode ? { errorCode } : {}),
    };
  };

  try {
    for (const resource of enabledResources(current, sync, request.resources)) {
      counts[resource] = { created: 0, updated: 0, deleted: 0 };
      await syncResource(current, sync, client, resource, request.full === true, counts[resource], lease);
    }
  } catch (error) {
    return failPass(current, error, log, before, { request, pass });
  }

  // The next run is due 15 minutes after this one was asked for, not after it ended: a dispatched sync
  // then falls due exactly at the next dispatch (every 15 minutes), never one dispatch later.
  const next = new Date(Date.parse(pass.requestedAt ?? started.toISOString()) + SYNC_INTERVAL_MS);
  // Health, the last sync, the failure count and the next run in one write, only while still active.
  await changeHealth(current.orgId, current.id, {
    healthStatus: 'healthy',
    reason: 'synced',
    evidence: 'sync',
    announceAgainst: before,
    // A reconnect makes a failing integration healthy but leaves its sync_failing alert to this success.
    settledAlertsMayBeOpen: (latest) => (latest.consecutiveSyncFailures ?? 0) >= ALERT_AFTER_FAILURES,
    alsoWrite: (latest) => ({
      lastSyncAt: new Date().toISOString(),
      consecutiveSyncFailures: 0,
      ...syncScheduleAttributes(latest.id, latest.settings?.scheduledSync === false ? undefined : next),
    }),
  });
  if (await writeFencedLog(current, log('succeeded'))) return 'skipped';
  countMetric('SyncSucceeded');
  countMetric('SyncRecords', Object.values(counts).reduce((sum, each) => sum + each.created + each.updated + each.deleted, 0));
  await publishEvents([
    { type: 'integration.synced', orgId: current.orgId, integrationId: current.id, detail: { providerId: current.providerId, syncId, trigger: request.trigger, counts } },
  ]);
  return 'succeeded';
}

async function syncResource(
  integration: IntegrationRecord,
  sync: ProviderSync,
  client: NonNullable<ReturnType<typeof oauthClient>>,
  resource: string,
  full: boolean,
  counts: Counts[string],
  lease: Lease,
): Promise<void> {
  const resourceSync = sync.resources[resource];
  if (!resourceSync) return;
  let cursor = full ? undefined : await loadCursor(integration.orgId, integration.id, resource);
  let resets = 0;
  for (let page = 0; page < MAX_PAGES_PER_RESOURCE; page += 1) {
    let result;
    try {
      result = await withAccessToken(integration, sync.credentialKind, (accessToken) => resourceSync.pull({ client, accessToken, cursor }));
    } catch (error) {
      if (!(error instanceof CursorResetError) || resets > 0) throw error;
      resets += 1;
      logger.info('Cursor invalidated by the provider; full resync', { integrationId: integration.id, resource });
      await saveCursor(integration.orgId, integration.id, resource, undefined);
      cursor = undefined;
      continue;
    }
    // The last change of an item within a page wins; the page is written in batches (shared/store/record-writes.ts).
    const latest = new Map(result.changes.map((change) => [change.externalId, change]));
    const written = await writeRecords(
      integration.orgId,
      integration.id,
      resource,
      [...latest.values()].map((change) => ({ externalId: change.externalId, deleted: change.op === 'delete', ...(change.data ? { data: change.data } : {}) })),
      new Date(),
    );
    counts.created += written.created;
    counts.updated += written.updated;
    counts.deleted += written.deleted;
    // Records first, cursor after: a crash here re-pulls this page (idempotent writes), never skips one.
    const next = result.complete && !resourceSync.keepCursorAfterPass ? undefined : result.cursor;
    await saveCursor(integration.orgId, integration.id, resource, next);
    await checkBetweenPages(integration, resource, [...latest.keys()], lease);
    cursor = result.cursor;
    if (result.complete) return;
  }
}

/**
 * Between pages: an erasure that happened meanwhile puts what this page wrote
 * on the purge clock and stops the run; a disconnect stops it; the lease is
 * renewed, or the run stops if another one took it over.
 */
async function checkBetweenPages(integration: IntegrationRecord, resource: string, externalIds: string[], lease: Lease): Promise<void> {
  const written = [...externalIds.map((id) => syncKeys.record(integration.id, resource, id)), syncKeys.cursor(integration.id, resource)];
  if (await expireIfErased(integration.orgId, integration.id, written)) throw new SyncStopped('erased');
  const now = await getIntegration(integration.orgId, integration.id);
  if (!now || now.status !== 'active') throw new SyncStopped('disconnected');
  if (!(await renewSyncLease(lease.orgId, lease.integrationId, lease.owner, SYNC_LEASE_MS))) throw new SyncStopped('lease_lost');
  const left = remainingMs();
  if (left !== undefined && left < SYNC_STOP_MARGIN_MS) throw new SyncStopped('out_of_time');
}

/** Writes the run's log; an erasure that happened meanwhile gets it on the purge clock too. True when erased. */
async function writeFencedLog(integration: IntegrationRecord, log: Omit<SyncLog, 'attempts'>): Promise<boolean> {
  await writeSyncLog(integration.orgId, integration.id, log);
  return expireIfErased(integration.orgId, integration.id, [syncLogKey(integration.id, log)]);
}

/**
 * Why a failed sync leaves the integration degraded. A failed token refresh
 * already said why (`token_refresh_failed:…`, during this run or before it
 * with nothing better since): the sync's generic reason must not hide it.
 */
async function failureReason(integration: IntegrationRecord, before: { healthReason: string }, errorCode: string): Promise<string> {
  const latest = (await getIntegration(integration.orgId, integration.id))?.healthReason ?? '';
  if (latest.startsWith('token_refresh_failed')) return latest;
  if (latest === 'sync_running' && before.healthReason.startsWith('token_refresh_failed')) return before.healthReason;
  return `sync_failed:${errorCode}`;
}

async function failPass(
  integration: IntegrationRecord,
  error: unknown,
  log: (outcome: SyncLog['outcome'], errorCode?: string) => Omit<SyncLog, 'attempts'>,
  before: { healthStatus: IntegrationRecord['healthStatus']; healthReason: string },
  run: { request: SyncRequest; pass: PassIdentity },
): Promise<SyncOutcome> {
  if (error instanceof SyncStopped && error.why === 'out_of_time') {
    // Nothing failed: the state it started from comes back, and the same run carries on from its cursors
    // in a new invocation (same sync id and request time, so it keeps its one log).
    await changeHealth(integration.orgId, integration.id, { healthStatus: before.healthStatus, reason: before.healthReason, announceAgainst: 'never' });
    await publishEvents([
      {
        type: 'SyncRequested',
        orgId: integration.orgId,
        integrationId: integration.id,
        detail: {
          providerId: integration.providerId,
          trigger: run.request.trigger,
          syncId: run.pass.syncId,
          ...(run.pass.requestedAt ? { requestedAt: run.pass.requestedAt } : {}),
          ...(run.pass.covers.length > 0 ? { covers: run.pass.covers } : {}),
          ...(run.request.resources?.[0] ? { resource: run.request.resources[0] } : {}),
        },
      },
    ]);
    return 'skipped';
  }
  if (error instanceof SyncStopped) {
    // An erased integration gets no new log; another run that took over writes its own.
    if (error.why === 'disconnected') await writeFencedLog(integration, log('skipped', 'disconnected'));
    return 'skipped';
  }
  const errorCode = error instanceof IntegrationUnavailableError ? error.reason : errorCodeOf(error);
  if (await writeFencedLog(integration, log('failed', errorCode))) return 'skipped';
  countMetric('SyncFailed');
  // A revoked grant already disconnected the integration (token manager): nothing to retry.
  if (error instanceof IntegrationUnavailableError) return 'failed';

  let failures = 0;
  await changeHealth(integration.orgId, integration.id, {
    healthStatus: 'degraded',
    reason: await failureReason(integration, before, errorCode),
    announceAgainst: before,
    alsoWrite: (latest) => {
      failures = (latest.consecutiveSyncFailures ?? 0) + 1;
      return { consecutiveSyncFailures: failures };
    },
  });
  if (failures === ALERT_AFTER_FAILURES) {
    await raiseAlert({
      orgId: integration.orgId,
      integrationId: integration.id,
      kind: 'sync_failing',
      reason: 'sync_failing',
      message: `Syncing has failed ${failures} times in a row (${errorCode}).`,
      detail: { consecutiveFailures: failures, errorCode },
    });
  }
  // Only what may pass on its own is retried (EventBridge retry policy, then the DLQ); a refusal is not.
  if (error instanceof ProviderError && !error.transient) return 'failed';
  throw error;
}
