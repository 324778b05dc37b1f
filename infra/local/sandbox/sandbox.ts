import {
  advanceSecondsSchema,
  channelsProviderSchema,
  dataItemsQuerySchema,
  expireInputSchema,
  gmailPushInputSchema,
  googleNotifyInputSchema,
  graphLifecycleInputSchema,
  graphNotifyInputSchema,
  handleControl,
  revokeInputSchema,
  SandboxNotFoundError,
} from './control';
import type {
  ClockInfo,
  ControlTarget,
  DataItemsQuery,
  DataItemsResult,
  ExpireInput,
  GmailPushInput,
  GoogleNotifyInput,
  GraphLifecycleInput,
  GraphNotifyInput,
  LoggedRequest,
  RevokeInput,
} from './control';
import { DEFAULT_DATA_RETENTION_SECONDS, SyncData } from './data';
import { applyDataOp, dataAccount, dataItemsInfo, dataOpSchema, seedData, type DataOp, type DataOpResult } from './data-ops';
import { Delays, FaultQueue, faultSpecSchema, type ActiveFault, type FaultSpec } from './faults';
import { createGoogle } from './google';
import { createGooglePush, type GmailPushResult, type GoogleNotifyResult, type GooglePush } from './google-push';
import { loggableBody, paramsRecord, parseBody, textResponse, type SandboxRequest, type SandboxResponse } from './http';
import { createAsana } from './asana';
import { createMicrosoft } from './microsoft';
import { createNotion } from './notion';
import { createMicrosoftPush, type GraphLifecycleResult, type GraphNotifyResult, type MicrosoftPush } from './microsoft-push';
import {
  clonePushConfig,
  defaultPushConfig,
  Deliverer,
  mergePushConfig,
  pushConfigInputSchema,
  PushSigner,
  type ChannelInfo,
  type PublicJwks,
  type PushConfig,
  type PushConfigInput,
} from './push';
import type { ProviderModule } from './provider';
import { createSlack } from './slack';
import {
  createSlackEvents,
  slackEventInputSchema,
  slackUrlVerificationInputSchema,
  type SlackEventInput,
  type SlackEventResult,
  type SlackEvents,
  type SlackUrlVerificationInput,
  type SlackUrlVerificationResult,
} from './slack-events';
import {
  PROVIDER_IDS,
  providerIdSchema,
  SandboxStore,
  type CalendarEventRecord,
  type GrantRecord,
  type ProviderId,
  type SentEmail,
  type SlackEventDelivery,
  type SlackMessage,
  type TeamsMessage,
  type TokenCounts,
} from './state';

export interface SandboxOptions {
  /** The base clock in epoch ms (default `Date.now`); `advanceClock` moves the sandbox clock ahead of it. */
  now?: () => number;
  /** Persist grants, tokens, codes, Slack channels, push channels, the signing key and the clock offset as JSON here. */
  statePath?: string;
  /** Push notification settings (also `configurePush`): the Gmail push URL, channel and subscription limits, the delivery timeout, Slack events. */
  push?: PushConfigInput;
  /**
   * The URL the sandbox is reached at (e.g. `http://localhost:3000/sandbox`), for the absolute links
   * it answers (Graph `@odata.nextLink` / `@odata.deltaLink`); by default the request's `Host` under `/sandbox`.
   */
  publicUrl?: string;
  /** How long deleted items stay as tombstones for incremental listings (sandbox clock; default 7 days). */
  dataRetentionSeconds?: number;
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
  private pushSettings: PushConfig;
  private readonly deliverer: Deliverer;
  private readonly signer: PushSigner;
  private readonly googlePush: GooglePush;
  private readonly microsoftPush: MicrosoftPush;
  private readonly data: SyncData;
  private readonly slackSender: SlackEvents;

  constructor(options: SandboxOptions = {}) {
    this.store = new SandboxStore(options.now ?? Date.now, options.statePath);
    this.pushSettings = mergePushConfig(defaultPushConfig(), pushConfigInputSchema.parse(options.push ?? {}));
    this.deliverer = new Deliverer(() => this.pushSettings.deliveryTimeoutMs);
    this.signer = new PushSigner(this.store);
    const pushDeps = { store: this.store, deliverer: this.deliverer, config: () => this.pushSettings };
    this.googlePush = createGooglePush({ ...pushDeps, signer: this.signer });
    this.microsoftPush = createMicrosoftPush(pushDeps);
    this.data = new SyncData(this.store, {
      retentionMs: (options.dataRetentionSeconds ?? DEFAULT_DATA_RETENTION_SECONDS) * 1000,
      seed: seedData(this.store),
    });
    this.slackSender = createSlackEvents(pushDeps);
    this.data.onChange((change) => this.slackSender.onDataChange(change));
    const publicUrl = options.publicUrl;
    this.providers = {
      slack: createSlack(this.store, this.data, this.slackSender),
      google: createGoogle(this.store, this.googlePush, this.data),
      microsoft: createMicrosoft(this.store, this.microsoftPush, this.data, () => publicUrl),
      asana: createAsana(this.store, this.deliverer),
      notion: createNotion(this.store, this.deliverer),
    };
  }

  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const path = request.path === '' ? '/' : request.path;
    const controlled = /^\/_control\/([a-z]+)(\/.*)$/.exec(path);
    const controlModule = PROVIDER_IDS.find((id) => id === controlled?.[1]);
    const ownControl = controlModule ? this.providers[controlModule].control : undefined;
    if (ownControl && controlled) return ownControl({ ...request, path: controlled[2] ?? '/' });
    if (path === '/_control' || path.startsWith('/_control/')) return handleControl(this, { ...request, path });
    const match = /^\/([a-z]+)(\/.*)?$/.exec(path);
    const provider = PROVIDER_IDS.find((id) => id === match?.[1]);
    if (!provider) {
      return textResponse(404, `Not found: the sandbox serves ${PROVIDER_IDS.map((id) => `/${id}/…`).join(', ')} and /_control/…`);
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

  // --- push notifications ---

  /**
   * Points each sandboxed provider's deliveries at the app's webhook for it
   * (`{slack: url, google: url, …}`): Slack events, Gmail pushes (signed for
   * `GMAIL_PUSH_AUDIENCE` from `env` when set), and whatever the newer fakes push.
   */
  connectWebhooks(urls: Partial<Record<string, string>>, env: Record<string, string | undefined> = {}): void {
    for (const id of PROVIDER_IDS) {
      const url = urls[id];
      if (url === undefined) continue;
      if (id === 'google') this.configurePush({ gmailPushUrl: url, gmailPushAudience: env.GMAIL_PUSH_AUDIENCE ?? null });
      else if (id === 'slack') this.configurePush({ slackEventsUrl: url });
      else this.providers[id].connectWebhook?.(url);
    }
  }

  /**
   * Changes the push settings (fields left out keep their value; `gmailPushUrl: null`
   * forgets the push URL). Settings survive `reset`.
   */
  configurePush(input: PushConfigInput): PushConfig {
    this.pushSettings = mergePushConfig(this.pushSettings, pushConfigInputSchema.parse(input));
    return this.pushConfig();
  }

  pushConfig(): PushConfig {
    return clonePushConfig(this.pushSettings);
  }

  /** Google channels and Gmail watches, Graph subscriptions (live ones only): never their token or clientState. */
  channels(provider?: 'google' | 'microsoft'): ChannelInfo[] {
    const wanted = provider === undefined ? undefined : channelsProviderSchema.parse(provider);
    return [
      ...(wanted === undefined || wanted === 'google' ? this.googlePush.channels() : []),
      ...(wanted === undefined || wanted === 'microsoft' ? this.microsoftPush.channels() : []),
    ];
  }

  /** Sends `count` change messages on a Google channel (after its earlier ones) and returns what the app answered. */
  googleNotify(input: GoogleNotifyInput): Promise<GoogleNotifyResult> {
    return this.googlePush.notify(googleNotifyInputSchema.parse(input));
  }

  /** Sends a Pub/Sub push for a watched mailbox to the configured push URL, with an RS256 OIDC token. */
  gmailPush(input: GmailPushInput): Promise<GmailPushResult> {
    return this.googlePush.gmailPush(gmailPushInputSchema.parse(input));
  }

  /** Sends `count` change notifications of a Graph subscription to its notificationUrl. */
  graphNotify(input: GraphNotifyInput): Promise<GraphNotifyResult> {
    return this.microsoftPush.notify(graphNotifyInputSchema.parse(input));
  }

  /** Sends a lifecycle notification; `subscriptionRemoved` also deletes the subscription. */
  graphLifecycle(input: GraphLifecycleInput): Promise<GraphLifecycleResult> {
    return this.microsoftPush.lifecycle(graphLifecycleInputSchema.parse(input));
  }

  /** The public keys of the sandbox's signing key, as served at `/google/www/oauth2/v3/certs`. */
  googleJwks(): PublicJwks {
    return this.signer.jwks();
  }

  // --- sync data ---

  /**
   * Changes the data the sync reads (`POST /_control/data/{provider}`): `add`, `update` (deep merge),
   * `delete`, `bulk-add`, `invalidate-cursors` (the next incremental call gets the provider's
   * full-resync answer) and Slack's `join`. `account` defaults to the provider's default account.
   */
  changeData(provider: ProviderId, op: DataOp): DataOpResult {
    return applyDataOp(this.data, providerIdSchema.parse(provider), dataOpSchema.parse(op));
  }

  /** The items of a resource (`GET /_control/data/{provider}?resource=…`), in creation order. */
  dataItems(provider: ProviderId, query: DataItemsQuery): DataItemsResult {
    const id = providerIdSchema.parse(provider);
    const { resource, account, includeDeleted } = dataItemsQuerySchema.parse({
      resource: query.resource,
      ...(query.account !== undefined ? { account: query.account } : {}),
      ...(query.includeDeleted !== undefined ? { includeDeleted: String(query.includeDeleted) } : {}),
    });
    const items = dataItemsInfo(this.data, id, resource, account, includeDeleted);
    const resolved = dataAccount(id, account);
    return { provider: id, resource, account: resolved, sequence: this.data.current(resource, resolved), items };
  }

  // --- Slack events ---

  /** Sends a signed `event_callback` to the Slack events URL, retrying like Slack (`POST /_control/slack/events`). */
  slackEvent(input: SlackEventInput): Promise<SlackEventResult> {
    return this.slackSender.send(slackEventInputSchema.parse(input));
  }

  /** Events API deliveries so far (automatic and requested), oldest first, with every attempt. */
  slackEvents(): SlackEventDelivery[] {
    return this.slackSender.deliveries();
  }

  /** Performs Slack's `url_verification` handshake against the events URL and reports whether the challenge came back. */
  slackUrlVerification(input: SlackUrlVerificationInput = {}): Promise<SlackUrlVerificationResult> {
    return this.slackSender.urlVerification(slackUrlVerificationInputSchema.parse(input));
  }

  /** Resolves once every delivery under way (e.g. the `sync` message after a watch) has ended. */
  waitForDeliveries(): Promise<void> {
    return this.deliverer.settled();
  }

  /** Forgets everything: grants, tokens, codes, channels, sync data, observations, faults, the request log and the clock offset (not the push settings or the signing key); aborts deliveries under way. */
  reset(): void {
    this.deliverer.cancelAll();
    this.store.reset();
    this.faultQueue.clear();
    this.log = [];
    this.seq = 0;
  }

  /** Writes pending state to `statePath` now. */
  async flush(): Promise<void> {
    await this.store.flush();
  }

  /** Ends pending fault delays and deliveries and flushes the state file. */
  async close(): Promise<void> {
    this.delays.cancelAll();
    this.deliverer.cancelAll();
    await this.deliverer.settled();
    await this.store.flush();
  }
}
