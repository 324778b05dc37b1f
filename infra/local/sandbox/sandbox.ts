import { advanceSecondsSchema, expireInputSchema, handleControl, revokeInputSchema, SandboxNotFoundError } from './control';
import type { ClockInfo, ControlTarget, ExpireInput, LoggedRequest, RevokeInput } from './control';
import { Delays, FaultQueue, faultSpecSchema, type ActiveFault, type FaultSpec } from './faults';
import { createGoogle } from './google';
import { loggableBody, paramsRecord, parseBody, textResponse, type SandboxRequest, type SandboxResponse } from './http';
import { createMicrosoft } from './microsoft';
import type { ProviderModule } from './provider';
import { createSlack } from './slack';
import {
  PROVIDER_IDS,
  SandboxStore,
  type CalendarEventRecord,
  type GrantRecord,
  type ProviderId,
  type SentEmail,
  type SlackMessage,
  type TeamsMessage,
  type TokenCounts,
} from './state';

export interface SandboxOptions {
  /** The base clock in epoch ms (default `Date.now`); `advanceClock` moves the sandbox clock ahead of it. */
  now?: () => number;
  /** Persist grants, tokens, codes, Slack channels and the clock offset as JSON here. */
  statePath?: string;
}

const REQUEST_LOG_LIMIT = 5_000;

const normalizeAccount = (provider: ProviderId, account: string): string =>
  provider === 'slack' ? account.trim().toUpperCase() : account.trim().toLowerCase();

/**
 * Faithful fakes of the Slack, Google and Microsoft OAuth servers and of the
 * API calls the app makes. `handle` takes a request whose path is relative to
 * the mount point (`/slack/…`, `/google/…`, `/microsoft/…`, `/_control/…`).
 */
export class Sandbox implements ControlTarget {
  private readonly store: SandboxStore;
  private readonly faultQueue = new FaultQueue();
  private readonly delays = new Delays();
  private readonly providers: Record<ProviderId, ProviderModule>;
  private log: LoggedRequest[] = [];
  private seq = 0;

  constructor(options: SandboxOptions = {}) {
    this.store = new SandboxStore(options.now ?? Date.now, options.statePath);
    this.providers = {
      slack: createSlack(this.store),
      google: createGoogle(this.store),
      microsoft: createMicrosoft(this.store),
    };
  }

  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const path = request.path === '' ? '/' : request.path;
    if (path === '/_control' || path.startsWith('/_control/')) return handleControl(this, { ...request, path });
    const match = /^\/(slack|google|microsoft)(\/.*)?$/.exec(path);
    const provider = PROVIDER_IDS.find((id) => id === match?.[1]);
    if (!provider) {
      return textResponse(404, 'Not found: the sandbox serves /slack/…, /google/…, /microsoft/… and /_control/…');
    }
    const providerRequest: SandboxRequest = { ...request, path: match?.[2] ?? '/' };
    const entry = this.logRequest(provider, providerRequest);
    const module = this.providers[provider];
    const fault = this.faultQueue.take(provider, providerRequest.path);
    if (fault?.delayMs) await this.delays.wait(fault.delayMs);
    const response = fault?.status
      ? module.fault(providerRequest, fault.status, fault.retryAfterSeconds)
      : await module.handle(providerRequest);
    entry.status = response.status;
    return response;
  }

  private logRequest(provider: ProviderId, request: SandboxRequest): LoggedRequest {
    this.seq += 1;
    const entry: LoggedRequest = {
      seq: this.seq,
      provider,
      method: request.method,
      path: request.path,
      query: paramsRecord(request.query),
      headers: { ...request.headers },
      body: loggableBody(parseBody(request)),
      at: new Date(this.store.now()).toISOString(),
    };
    this.log.push(entry);
    if (this.log.length > REQUEST_LOG_LIMIT) this.log.splice(0, this.log.length - REQUEST_LOG_LIMIT);
    return entry;
  }

  // --- control operations ---

  /** Requests the fakes received (not control calls), oldest first; `since` is exclusive. */
  requests(filter: { provider?: ProviderId | undefined; since?: number | undefined } = {}): LoggedRequest[] {
    return this.log.filter(
      (entry) => (filter.provider === undefined || entry.provider === filter.provider) && (filter.since === undefined || entry.seq > filter.since),
    );
  }

  /** Revokes the grant of `token`, and/or every grant of `account` (access and refresh tokens). */
  revoke(input: RevokeInput): { revoked: number } {
    const { provider, token, account } = revokeInputSchema.parse(input);
    const grants: GrantRecord[] = [];
    if (token !== undefined) {
      const found = this.store.lookupToken(provider, token);
      if (found.status === 'unknown') throw new SandboxNotFoundError(`No ${provider} token like that was issued by the sandbox`);
      grants.push(found.grant);
    }
    if (account !== undefined) {
      const wanted = normalizeAccount(provider, account);
      grants.push(...this.store.grants(provider).filter((grant) => grant.account === wanted));
    }
    let revoked = 0;
    for (const id of new Set(grants.map((grant) => grant.id))) if (this.store.revokeGrant(id)) revoked += 1;
    return { revoked };
  }

  /** Access tokens of `token`'s grant (or of the whole provider) expire now. */
  expire(input: ExpireInput): { expired: number } {
    const { provider, token } = expireInputSchema.parse(input);
    if (token === undefined) return { expired: this.store.expireAccessTokens(provider) };
    const found = this.store.lookupToken(provider, token);
    if (found.status === 'unknown') throw new SandboxNotFoundError(`No ${provider} token like that was issued by the sandbox`);
    return { expired: this.store.expireAccessTokens(provider, found.grant.id) };
  }

  addFault(spec: FaultSpec): void {
    this.faultQueue.add(faultSpecSchema.parse(spec));
  }

  clearFaults(): void {
    this.faultQueue.clear();
  }

  faults(): ActiveFault[] {
    return this.faultQueue.list();
  }

  /** The sandbox clock in epoch ms. */
  now(): number {
    return this.store.now();
  }

  clock(): ClockInfo {
    const nowMs = this.store.now();
    return { now: new Date(nowMs).toISOString(), nowMs, offsetSeconds: this.store.clockOffsetMs / 1000 };
  }

  advanceClock(seconds: number): ClockInfo {
    this.store.advanceClock(advanceSecondsSchema.parse(seconds));
    return this.clock();
  }

  /** Mail sent through Gmail `messages.send` and Graph `sendMail`, decoded. */
  emails(provider?: 'google' | 'microsoft'): SentEmail[] {
    return this.store.records.emails.filter((email) => provider === undefined || email.provider === provider);
  }

  slackMessages(): SlackMessage[] {
    return [...this.store.records.slackMessages];
  }

  teamsMessages(): TeamsMessage[] {
    return [...this.store.records.teamsMessages];
  }

  calendarEvents(provider?: 'google' | 'microsoft'): CalendarEventRecord[] {
    return this.store.records.calendarEvents.filter((event) => provider === undefined || event.provider === provider);
  }

  /** Counts only (never token values): grants, codes, access and refresh tokens by state. */
  tokenCounts(provider?: ProviderId): Partial<Record<ProviderId, TokenCounts>> {
    const out: Partial<Record<ProviderId, TokenCounts>> = {};
    for (const id of provider ? [provider] : PROVIDER_IDS) out[id] = this.store.counts(id);
    return out;
  }

  /** Forgets everything: grants, tokens, codes, channels, observations, faults, the request log and the clock offset. */
  reset(): void {
    this.store.reset();
    this.faultQueue.clear();
    this.log = [];
    this.seq = 0;
  }

  /** Writes pending state to `statePath` now. */
  async flush(): Promise<void> {
    await this.store.flush();
  }

  /** Ends pending fault delays and flushes the state file. */
  async close(): Promise<void> {
    this.delays.cancelAll();
    await this.store.flush();
  }
}
