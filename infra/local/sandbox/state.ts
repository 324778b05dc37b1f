import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { recordIssuedSecret } from './secrets-ledger';
import { rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as z from 'zod';
import { SANDBOX_PROVIDERS } from './clients';
import { randomHex, randomId, secretKey, stableDigits } from './ids';

/**
 * The sandbox's memory: authorization codes, grants and tokens (stored under
 * the SHA-256 of their value, never in clear), Slack channels, push channels,
 * the sync data (users, channels, events, files, messages) and the clock
 * offset. With a `statePath` it is persisted as JSON (debounced, atomic
 * rename) so a restart of the local runtime keeps issued tokens valid. Sent
 * mail and posted messages are observations, kept in memory only.
 */

export type ProviderId = keyof typeof SANDBOX_PROVIDERS;
export const PROVIDER_IDS = Object.keys(SANDBOX_PROVIDERS) as ProviderId[];
export const providerIdSchema = z.enum(PROVIDER_IDS as [ProviderId, ...ProviderId[]]);

const pkceSchema = z.object({ challenge: z.string(), method: z.enum(['S256', 'plain']) });

const codeSchema = z.object({
  provider: providerIdSchema,
  clientId: z.string(),
  redirectUri: z.string(),
  scopes: z.array(z.string()),
  /** Slack `user_scope`. */
  userScopes: z.array(z.string()),
  pkce: pkceSchema.optional(),
  account: z.string(),
  /** Microsoft: the `{tenant}` path segment of the authorize request. */
  tenant: z.string().optional(),
  /** Whether a refresh token is issued (Google `access_type=offline`, Microsoft `offline_access`). */
  offline: z.boolean(),
  nonce: z.string().optional(),
  issuedAt: z.number(),
  expiresAt: z.number(),
  usedAt: z.number().optional(),
});
export type CodeRecord = z.infer<typeof codeSchema>;

const grantSchema = z.object({
  id: z.string(),
  provider: providerIdSchema,
  clientId: z.string(),
  account: z.string(),
  /** Slack issues a bot and a user credential from one consent; the others one grant. */
  kind: z.enum(['bot', 'user', 'oauth']),
  scopes: z.array(z.string()),
  offline: z.boolean(),
  nonce: z.string().optional(),
  tenant: z.string().optional(),
  createdAt: z.number(),
  revokedAt: z.number().optional(),
});
export type GrantRecord = z.infer<typeof grantSchema>;

const tokenSchema = z.object({
  grantId: z.string(),
  kind: z.enum(['access', 'refresh']),
  /** When narrower than the grant (Microsoft refresh with a `scope` subset). */
  scopes: z.array(z.string()).optional(),
  issuedAt: z.number(),
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
});
export type TokenRecord = z.infer<typeof tokenSchema>;

const slackChannelSchema = z.object({
  id: z.string(),
  teamId: z.string(),
  name: z.string(),
  isPrivate: z.boolean(),
  created: z.number(),
  creator: z.string(),
});
export type SlackChannelRecord = z.infer<typeof slackChannelSchema>;

// --- push notifications (Google channels, Gmail watches, Graph subscriptions) ---

/** One outgoing delivery of the sandbox to the app (a notification, a handshake, a push). */
const deliverySchema = z.object({
  kind: z.enum(['sync', 'notification', 'validation', 'lifecycle', 'push']),
  /** Sandbox-clock time, ISO 8601. */
  at: z.string(),
  /** The HTTP status the app answered; null when no answer came (refused, timed out, aborted). */
  status: z.number().nullable(),
  error: z.string().optional(),
  /** Google: `X-Goog-Message-Number`. */
  messageNumber: z.number().optional(),
  /** Google resource state, Graph change type or lifecycle event, Gmail history id. */
  detail: z.string().optional(),
  durationMs: z.number(),
});
export type DeliveryRecord = z.infer<typeof deliverySchema>;

const googleChannelSchema = z.object({
  id: z.string(),
  api: z.enum(['calendar', 'drive']),
  account: z.string(),
  clientId: z.string(),
  resourceId: z.string(),
  resourceUri: z.string(),
  address: z.string(),
  /** Echoed in `X-Goog-Channel-Token`; never shown by the control API. */
  token: z.string().optional(),
  expiration: z.number(),
  createdAt: z.number(),
  stoppedAt: z.number().optional(),
  /** The last `X-Goog-Message-Number` sent. */
  messageNumber: z.number(),
  deliveries: z.array(deliverySchema),
});
export type GoogleChannelRecord = z.infer<typeof googleChannelSchema>;

const gmailWatchSchema = z.object({
  account: z.string(),
  clientId: z.string(),
  topicName: z.string(),
  labelIds: z.array(z.string()),
  labelFilterBehavior: z.string().optional(),
  expiration: z.number(),
  createdAt: z.number(),
  stoppedAt: z.number().optional(),
  deliveries: z.array(deliverySchema),
});
export type GmailWatchRecord = z.infer<typeof gmailWatchSchema>;

const graphSubscriptionSchema = z.object({
  id: z.string(),
  account: z.string(),
  clientId: z.string(),
  resource: z.string(),
  changeType: z.string(),
  notificationUrl: z.string(),
  lifecycleNotificationUrl: z.string().optional(),
  /** Sent back in every notification; never shown by the control API. */
  clientState: z.string().optional(),
  latestSupportedTlsVersion: z.string(),
  expiration: z.number(),
  createdAt: z.number(),
  deliveries: z.array(deliverySchema),
});
export type GraphSubscriptionRecord = z.infer<typeof graphSubscriptionSchema>;

const pushStateSchema = z.object({
  googleChannels: z.record(z.string(), googleChannelSchema),
  /** By account (one watch per mailbox, as in Gmail). */
  gmailWatches: z.record(z.string(), gmailWatchSchema),
  graphSubscriptions: z.record(z.string(), graphSubscriptionSchema),
  /** Gmail history id and Drive change counter, by account. */
  gmailHistory: z.record(z.string(), z.number()),
  driveChanges: z.record(z.string(), z.number()),
  /** The private RSA JWK the sandbox signs Pub/Sub OIDC tokens with (kept across `reset`). */
  signingKey: z.record(z.string(), z.unknown()).optional(),
});
export type PushState = z.infer<typeof pushStateSchema>;

const emptyPushState = (): PushState => ({ googleChannels: {}, gmailWatches: {}, graphSubscriptions: {}, gmailHistory: {}, driveChanges: {} });

// --- data the sync engine pulls (see data.ts) ---

const dataItemSchema = z.object({
  id: z.string(),
  /** The change sequence of its creation: full listings page by it. */
  created: z.number(),
  /** The change sequence of its last change: incremental listings page by it. */
  seq: z.number(),
  /** Sandbox-clock ms of its last change. */
  at: z.number(),
  /** A tombstone (kept for the retention window so incremental listings report the deletion). */
  deleted: z.boolean().optional(),
  /** The item in the provider's own shape. */
  value: z.record(z.string(), z.unknown()),
});
export type DataItemRecord = z.infer<typeof dataItemSchema>;

const dataCollectionSchema = z.object({
  /** The last change sequence (unused where a provider counter is the sequence: Drive changes, Gmail history). */
  seq: z.number(),
  /** Cursors that saw less than this are invalid (invalidation, pruned tombstones). */
  floor: z.number(),
  items: z.record(z.string(), dataItemSchema),
});
export type DataCollectionRecord = z.infer<typeof dataCollectionSchema>;

const issuedSchema = z.object({ code: z.number(), access: z.number(), refresh: z.number() });
type Issued = z.infer<typeof issuedSchema>;
const zeroIssued = (): Issued => ({ code: 0, access: 0, refresh: 0 });

const persistedSchema = z.object({
  version: z.literal(1),
  clockOffsetMs: z.number(),
  codes: z.record(z.string(), codeSchema),
  grants: z.record(z.string(), grantSchema),
  tokens: z.record(z.string(), tokenSchema),
  slackChannels: z.array(slackChannelSchema),
  /** Counters by provider; a provider added since the file was written starts at zero. */
  issued: z
    .record(z.string(), issuedSchema)
    .transform((issued) => Object.fromEntries(PROVIDER_IDS.map((id) => [id, issued[id] ?? zeroIssued()])) as Record<ProviderId, Issued>),
  /** The newer fakes' own state (Asana, Notion), by provider, each validated by its fake. */
  fakes: z
    .record(z.string(), z.unknown())
    .optional()
    .transform((fakes) => fakes ?? {}),
  /** Absent in state files written before push notifications existed. */
  push: pushStateSchema.optional().transform((push) => push ?? emptyPushState()),
  /** Sync data by `<resource>:<account>`; absent in state files written before it existed. */
  data: z
    .record(z.string(), dataCollectionSchema)
    .optional()
    .transform((data) => data ?? {}),
});
type PersistedState = z.infer<typeof persistedSchema>;

function emptyState(): PersistedState {
  return {
    version: 1,
    clockOffsetMs: 0,
    codes: {},
    grants: {},
    tokens: {},
    slackChannels: [],
    issued: Object.fromEntries(PROVIDER_IDS.map((id) => [id, zeroIssued()])) as Record<ProviderId, Issued>,
    fakes: {},
    push: emptyPushState(),
    data: {},
  };
}

// --- observations (memory only) ---

export interface SentEmail {
  id: string;
  provider: 'google' | 'microsoft';
  account: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  contentType: 'text' | 'html';
  body: string;
  /** Gmail: the RFC 2822 headers as sent (unfolded); Graph: none. */
  headers: Record<string, string>;
  /** Gmail: the whole decoded RFC 2822 message. */
  raw?: string;
  threadId?: string;
  at: string;
}

export interface SlackMessage {
  teamId: string;
  channel: string;
  ts: string;
  threadTs?: string;
  text?: string;
  blocks?: unknown;
  attachments?: unknown;
  tokenKind: 'bot' | 'user';
  user: string;
  at: string;
}

export interface TeamsMessage {
  id: string;
  account: string;
  teamId: string;
  channelId: string;
  contentType: string;
  content: string;
  at: string;
}

export interface CalendarEventRecord {
  provider: 'google' | 'microsoft';
  account: string;
  calendarId: string;
  id: string;
  /** The event as the fake answered it. */
  event: Record<string, unknown>;
  at: string;
}

/** One HTTP attempt of a Slack event delivery (`retryNum` 0 is the first, 1..3 the retries). */
export interface SlackEventAttempt {
  retryNum: number;
  /** `x-slack-retry-reason` of a retry. */
  retryReason?: string;
  /** Sandbox-clock time, ISO 8601. */
  at: string;
  /** The app's status; null when no answer came (timeout, refused, aborted). */
  status: number | null;
  error?: string;
  durationMs: number;
}

/** An Events API delivery of the sandbox to the app, with every attempt. */
export interface SlackEventDelivery {
  eventId: string;
  teamId: string;
  /** The inner event's type (`message`, `channel_created`, …). */
  type: string;
  url: string;
  /** Sent because a data change happened (not by `/_control/slack/events`). */
  automatic: boolean;
  /** A 2xx came back. */
  delivered: boolean;
  /** The app answered a failure with `x-slack-no-retry: 1`. */
  noRetry?: boolean;
  attempts: SlackEventAttempt[];
  /** The envelope as sent (the body of every attempt). */
  envelope: Record<string, unknown>;
}

const RECORD_LIMIT = 1_000;

export interface Records {
  emails: SentEmail[];
  slackMessages: SlackMessage[];
  teamsMessages: TeamsMessage[];
  calendarEvents: CalendarEventRecord[];
  slackEvents: SlackEventDelivery[];
}

export type TokenLookup =
  | { status: 'unknown' }
  | { status: 'active' | 'expired' | 'revoked'; key: string; token: TokenRecord; grant: GrantRecord };

export interface TokenCounts {
  grants: { active: number; revoked: number };
  codes: { issued: number; pending: number; used: number; expired: number };
  access: { issued: number; active: number; expired: number; revoked: number };
  refresh: { issued: number; active: number; expired: number; revoked: number };
}

const PRUNE_AFTER_MS = 30 * 24 * 3600 * 1000;

export class SandboxStore {
  private state: PersistedState = emptyState();
  readonly records: Records = { emails: [], slackMessages: [], teamsMessages: [], calendarEvents: [], slackEvents: [] };
  private readonly file: StateFile | undefined;
  private changesSincePrune = 0;
  private readonly fakes = new Map<ProviderId, unknown>();

  constructor(
    private readonly baseNow: () => number,
    statePath?: string,
  ) {
    if (statePath) {
      this.file = new StateFile(statePath, () => JSON.stringify(this.state));
      const loaded = this.file.load();
      if (loaded) this.state = loaded;
    }
  }

  /** The sandbox clock in epoch milliseconds. */
  now(): number {
    return this.baseNow() + this.state.clockOffsetMs;
  }

  get clockOffsetMs(): number {
    return this.state.clockOffsetMs;
  }

  advanceClock(seconds: number): void {
    this.state.clockOffsetMs += Math.round(seconds * 1000);
    this.changed();
  }

  // --- codes ---

  saveCode(raw: string, code: Omit<CodeRecord, 'issuedAt' | 'expiresAt'>, ttlSeconds: number): void {
    const now = this.now();
    this.state.codes[secretKey(raw)] = { ...code, issuedAt: now, expiresAt: now + ttlSeconds * 1000 };
    recordIssuedSecret(raw);
    this.state.issued[code.provider].code += 1;
    this.changed();
  }

  /** A code of this provider: redeemable, or why not. */
  findCode(provider: ProviderId, raw: string): { status: 'ok'; key: string; code: CodeRecord } | { status: 'unknown' | 'used' | 'expired' } {
    const key = secretKey(raw);
    const code = this.state.codes[key];
    if (!code || code.provider !== provider) return { status: 'unknown' };
    if (code.usedAt !== undefined) return { status: 'used' };
    if (this.now() >= code.expiresAt) return { status: 'expired' };
    return { status: 'ok', key, code };
  }

  markCodeUsed(key: string): void {
    const code = this.state.codes[key];
    if (code) code.usedAt = this.now();
    this.changed();
  }

  // --- grants and tokens ---

  createGrant(input: Omit<GrantRecord, 'id' | 'createdAt' | 'revokedAt'>): GrantRecord {
    const grant: GrantRecord = { ...input, id: randomId(), createdAt: this.now() };
    this.state.grants[grant.id] = grant;
    this.changed();
    return grant;
  }

  grant(id: string): GrantRecord | undefined {
    return this.state.grants[id];
  }

  grants(provider?: ProviderId): GrantRecord[] {
    return Object.values(this.state.grants).filter((grant) => !provider || grant.provider === provider);
  }

  issueToken(
    grant: GrantRecord,
    kind: 'access' | 'refresh',
    raw: string,
    ttlSeconds: number | undefined,
    scopes?: string[],
  ): TokenRecord {
    const now = this.now();
    const token: TokenRecord = {
      grantId: grant.id,
      kind,
      issuedAt: now,
      ...(ttlSeconds !== undefined ? { expiresAt: now + ttlSeconds * 1000 } : {}),
      ...(scopes ? { scopes } : {}),
    };
    this.state.tokens[secretKey(raw)] = token;
    recordIssuedSecret(raw);
    this.state.issued[grant.provider][kind] += 1;
    this.changed();
    return token;
  }

  lookupToken(provider: ProviderId, raw: string): TokenLookup {
    const key = secretKey(raw);
    const token = this.state.tokens[key];
    const grant = token ? this.state.grants[token.grantId] : undefined;
    if (!token || !grant || grant.provider !== provider) return { status: 'unknown' };
    return { status: this.tokenStatus(token, grant), key, token, grant };
  }

  private tokenStatus(token: TokenRecord, grant: GrantRecord): 'active' | 'expired' | 'revoked' {
    if (token.revokedAt !== undefined || grant.revokedAt !== undefined) return 'revoked';
    if (token.expiresAt !== undefined && this.now() >= token.expiresAt) return 'expired';
    return 'active';
  }

  revokeToken(key: string): void {
    const token = this.state.tokens[key];
    if (token && token.revokedAt === undefined) {
      token.revokedAt = this.now();
      this.changed();
    }
  }

  /** Revokes the grant and with it every access and refresh token it issued. */
  revokeGrant(grantId: string): boolean {
    const grant = this.state.grants[grantId];
    if (!grant || grant.revokedAt !== undefined) return false;
    const now = this.now();
    grant.revokedAt = now;
    for (const token of Object.values(this.state.tokens)) {
      if (token.grantId === grantId && token.revokedAt === undefined) token.revokedAt = now;
    }
    this.changed();
    return true;
  }

  /** Makes the access tokens of one grant (or of the whole provider) expire now. */
  expireAccessTokens(provider: ProviderId, grantId?: string): number {
    const now = this.now();
    let count = 0;
    for (const token of Object.values(this.state.tokens)) {
      const grant = this.state.grants[token.grantId];
      if (!grant || grant.provider !== provider || token.kind !== 'access') continue;
      if (grantId !== undefined && grant.id !== grantId) continue;
      if (this.tokenStatus(token, grant) !== 'active') continue;
      token.expiresAt = now;
      count += 1;
    }
    if (count > 0) this.changed();
    return count;
  }

  counts(provider: ProviderId): TokenCounts {
    const now = this.now();
    const issued = this.state.issued[provider];
    const counts: TokenCounts = {
      grants: { active: 0, revoked: 0 },
      codes: { issued: issued.code, pending: 0, used: 0, expired: 0 },
      access: { issued: issued.access, active: 0, expired: 0, revoked: 0 },
      refresh: { issued: issued.refresh, active: 0, expired: 0, revoked: 0 },
    };
    for (const grant of this.grants(provider)) counts.grants[grant.revokedAt === undefined ? 'active' : 'revoked'] += 1;
    for (const code of Object.values(this.state.codes)) {
      if (code.provider !== provider) continue;
      if (code.usedAt !== undefined) counts.codes.used += 1;
      else if (now >= code.expiresAt) counts.codes.expired += 1;
      else counts.codes.pending += 1;
    }
    for (const token of Object.values(this.state.tokens)) {
      const grant = this.state.grants[token.grantId];
      if (!grant || grant.provider !== provider) continue;
      counts[token.kind][this.tokenStatus(token, grant)] += 1;
    }
    return counts;
  }

  // --- Slack channels ---

  slackChannels(teamId: string): SlackChannelRecord[] {
    return this.state.slackChannels.filter((channel) => channel.teamId === teamId);
  }

  addSlackChannel(channel: SlackChannelRecord): void {
    this.state.slackChannels.push(channel);
    this.changed();
  }

  // --- push notifications ---

  /** Channels, watches, subscriptions and counters; call `touch()` after changing them. */
  get push(): PushState {
    return this.state.push;
  }

  /** Schedules a write of the state file after a change made through `push` or `data`. */
  touch(): void {
    this.changed();
  }

  /**
   * The Gmail history id or the Drive change counter of an account (the id of
   * the last change), starting at a stable per-account value.
   */
  counter(kind: 'gmailHistory' | 'driveChanges', account: string): number {
    const values = this.state.push[kind];
    const existing = values[account];
    if (existing !== undefined) return existing;
    const initial =
      kind === 'gmailHistory' ? 1_000_000 + Number(stableDigits(`gmail-history:${account}`, 6)) : 1_000 + Number(stableDigits(`drive-changes:${account}`, 4));
    values[account] = initial;
    this.changed();
    return initial;
  }

  /** Moves a counter on by one (or to `to` when that is higher) and returns it. */
  bumpCounter(kind: 'gmailHistory' | 'driveChanges', account: string, to?: number): number {
    const next = Math.max(this.counter(kind, account) + 1, to ?? 0);
    this.state.push[kind][account] = next;
    this.changed();
    return next;
  }

  // --- sync data ---

  /** Collections by `<resource>:<account>`; call `touch()` after changing them. */
  get data(): Record<string, DataCollectionRecord> {
    return this.state.data;
  }

  // --- the newer fakes' own state ---

  /**
   * The live state object of one fake: read from the state file the first time
   * (or `initial()` when absent or unreadable), then kept in place, so the fake
   * changes it directly and calls `touch()`.
   */
  fakeState<T>(provider: ProviderId, schema: z.ZodType<T>, initial: () => T): T {
    const cached = this.fakes.get(provider);
    if (cached !== undefined) return cached as T;
    const parsed = schema.safeParse(this.state.fakes[provider]);
    const live = parsed.success ? parsed.data : initial();
    this.state.fakes[provider] = live;
    this.fakes.set(provider, live);
    return live;
  }

  // --- observations ---

  record<K extends keyof Records>(kind: K, entry: Records[K][number]): void {
    const list = this.records[kind] as Array<Records[K][number]>;
    list.push(entry);
    if (list.length > RECORD_LIMIT) list.splice(0, list.length - RECORD_LIMIT);
  }

  // --- lifecycle ---

  /** Forgets everything but the signing key (apps cache the JWKS, so its key id stays valid). */
  reset(): void {
    const signingKey = this.state.push.signingKey;
    this.state = emptyState();
    this.fakes.clear();
    if (signingKey) this.state.push.signingKey = signingKey;
    this.records.emails = [];
    this.records.slackMessages = [];
    this.records.teamsMessages = [];
    this.records.calendarEvents = [];
    this.records.slackEvents = [];
    this.changed();
  }

  async flush(): Promise<void> {
    await this.file?.flush();
  }

  private changed(): void {
    this.changesSincePrune += 1;
    if (this.changesSincePrune >= 500) this.prune();
    this.file?.schedule();
  }

  /** Drops codes and access tokens long past their expiry (sandbox clock), so the state file stays small. */
  private prune(): void {
    this.changesSincePrune = 0;
    const horizon = this.now() - PRUNE_AFTER_MS;
    for (const [key, code] of Object.entries(this.state.codes)) if (code.expiresAt < horizon) delete this.state.codes[key];
    for (const [key, token] of Object.entries(this.state.tokens)) {
      if (token.kind === 'access' && token.expiresAt !== undefined && token.expiresAt < horizon) delete this.state.tokens[key];
    }
    const push = this.state.push;
    for (const [id, channel] of Object.entries(push.googleChannels)) if (channel.expiration < horizon) delete push.googleChannels[id];
    for (const [account, watch] of Object.entries(push.gmailWatches)) if (watch.expiration < horizon) delete push.gmailWatches[account];
    for (const [id, subscription] of Object.entries(push.graphSubscriptions)) {
      if (subscription.expiration < this.now()) delete push.graphSubscriptions[id];
    }
  }
}

/** Debounced, atomic JSON persistence (write a temporary file, then rename it over the old one). */
class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly snapshot: () => string,
    private readonly debounceMs = 50,
  ) {}

  load(): PersistedState | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: z.ZodSafeParseResult<PersistedState>;
    try {
      parsed = persistedSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = persistedSchema.safeParse(undefined);
    }
    if (parsed.success) return parsed.data;
    // Unreadable state must not stop the runtime: keep it aside and start empty.
    const aside = `${this.path}.corrupt-${Date.now()}`;
    renameSync(this.path, aside);
    process.stderr.write(`[sandbox] ${this.path} was unreadable; moved to ${aside}, starting with an empty sandbox\n`);
    return undefined;
  }

  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, this.debounceMs);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return this.write();
  }

  private write(): Promise<void> {
    if (!this.dirty) return this.writing;
    this.dirty = false;
    const data = this.snapshot();
    this.writing = this.writing.then(async () => {
      const temporary = `${this.path}.${process.pid}.${randomHex(4)}.tmp`;
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        await writeFile(temporary, data, { mode: 0o600 });
        await rename(temporary, this.path);
      } catch (error) {
        process.stderr.write(`[sandbox] could not persist ${this.path}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    });
    return this.writing;
  }
}
