import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import * as z from 'zod';
import { sha256 } from './ids';
import type { DeliveryRecord, SandboxStore } from './state';

/**
 * What the push fakes share: their configuration, outgoing deliveries to the
 * app (global `fetch`, a timeout, never throwing, one ordered queue per
 * channel) and the RSA key the sandbox signs Pub/Sub OIDC tokens with.
 */

// --- configuration ---

export type GraphResourceKind = 'event' | 'message' | 'contact' | 'driveItem' | 'chatMessage' | 'other';

export interface ChannelLimits {
  /** Lifetime of a channel whose watch names no expiration. */
  defaultSeconds: number;
  /** The longest lifetime; longer requests are cut to it. */
  maxSeconds: number;
}

export interface PushConfig {
  /** Where Gmail Pub/Sub pushes go (the app's push endpoint); null until configured. */
  gmailPushUrl: string | null;
  /** `aud` of the push's OIDC token; null means the push URL, as in Pub/Sub. */
  gmailPushAudience: string | null;
  /** Timeout of every outgoing delivery, including the Graph validation handshake (not Slack events: `slackEventsTimeoutMs`). */
  deliveryTimeoutMs: number;
  googleChannels: { calendar: ChannelLimits; driveChanges: ChannelLimits };
  /** Graph subscription maximum lifetime by resource kind (minutes). */
  graphMaxExpirationMinutes: Record<GraphResourceKind, number>;
  /** Where Slack Events API deliveries go (the app's Slack webhook); null until configured. */
  slackEventsUrl: string | null;
  /** The app's Slack signing secret (`SANDBOX_SLACK_SIGNING_SECRET` of the Slack webhook by default). */
  slackSigningSecret: string;
  /** A Slack delivery not answered 2xx within this is retried with `http_timeout` (Slack: 3 s). */
  slackEventsTimeoutMs: number;
  /** Waits before retries 1, 2 and 3 (Slack: about 0, 1 min, 5 min; the sandbox retries at once by default). */
  slackRetryDelaysMs: number[];
}

export const DEFAULT_DELIVERY_TIMEOUT_MS = 10_000;
export const DEFAULT_SLACK_SIGNING_SECRET = 'sandbox-slack-signing-secret';
export const SLACK_EVENTS_TIMEOUT_MS = 3_000;
const WEEK_SECONDS = 604_800;

export function defaultPushConfig(): PushConfig {
  return {
    gmailPushUrl: null,
    gmailPushAudience: null,
    deliveryTimeoutMs: DEFAULT_DELIVERY_TIMEOUT_MS,
    googleChannels: {
      calendar: { defaultSeconds: WEEK_SECONDS, maxSeconds: WEEK_SECONDS },
      // Drive: one hour without an expiration, a week at most (uncertain in the docs: configurable).
      driveChanges: { defaultSeconds: 3_600, maxSeconds: WEEK_SECONDS },
    },
    graphMaxExpirationMinutes: { event: 10_080, driveItem: 42_300, message: 4_230, contact: 4_230, chatMessage: 4_230, other: 4_230 },
    slackEventsUrl: null,
    slackSigningSecret: DEFAULT_SLACK_SIGNING_SECRET,
    slackEventsTimeoutMs: SLACK_EVENTS_TIMEOUT_MS,
    slackRetryDelaysMs: [0, 0, 0],
  };
}

export const httpUrlSchema = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host !== '' && url.hash === '';
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL without a fragment');

const limitsInputSchema = z
  .object({
    defaultSeconds: z.number().int().min(1).max(366 * 24 * 3600),
    maxSeconds: z.number().int().min(1).max(366 * 24 * 3600),
  })
  .partial()
  .strict();

const minutesSchema = z.number().int().min(1).max(525_600);

export const pushConfigInputSchema = z
  .object({
    gmailPushUrl: httpUrlSchema.nullable(),
    gmailPushAudience: z.string().min(1).nullable(),
    deliveryTimeoutMs: z.number().int().min(1).max(120_000),
    googleChannels: z.object({ calendar: limitsInputSchema, driveChanges: limitsInputSchema }).partial().strict(),
    graphMaxExpirationMinutes: z
      .object({ event: minutesSchema, driveItem: minutesSchema, message: minutesSchema, contact: minutesSchema, chatMessage: minutesSchema, other: minutesSchema })
      .partial()
      .strict(),
    slackEventsUrl: httpUrlSchema.nullable(),
    slackSigningSecret: z.string().min(1).max(256),
    slackEventsTimeoutMs: z.number().int().min(1).max(120_000),
    slackRetryDelaysMs: z.array(z.number().int().min(0).max(600_000)).max(3),
  })
  .partial()
  .strict();
export type PushConfigInput = z.infer<typeof pushConfigInputSchema>;

/** `config` with `input` applied (absent fields keep their value; null clears the push URL or audience). */
export function mergePushConfig(config: PushConfig, input: PushConfigInput): PushConfig {
  return {
    gmailPushUrl: input.gmailPushUrl === undefined ? config.gmailPushUrl : input.gmailPushUrl,
    gmailPushAudience: input.gmailPushAudience === undefined ? config.gmailPushAudience : input.gmailPushAudience,
    deliveryTimeoutMs: input.deliveryTimeoutMs ?? config.deliveryTimeoutMs,
    googleChannels: {
      calendar: { ...config.googleChannels.calendar, ...input.googleChannels?.calendar },
      driveChanges: { ...config.googleChannels.driveChanges, ...input.googleChannels?.driveChanges },
    },
    graphMaxExpirationMinutes: { ...config.graphMaxExpirationMinutes, ...input.graphMaxExpirationMinutes },
    slackEventsUrl: input.slackEventsUrl === undefined ? config.slackEventsUrl : input.slackEventsUrl,
    slackSigningSecret: input.slackSigningSecret ?? config.slackSigningSecret,
    slackEventsTimeoutMs: input.slackEventsTimeoutMs ?? config.slackEventsTimeoutMs,
    slackRetryDelaysMs: [...(input.slackRetryDelaysMs ?? config.slackRetryDelaysMs)],
  };
}

export function clonePushConfig(config: PushConfig): PushConfig {
  return mergePushConfig(config, {});
}

// --- deliveries ---

export interface DeliveryOutcome {
  status: number | null;
  error?: string;
  /** Why no answer came: the timeout, an abort (reset or close), or the connection. */
  failure?: 'timeout' | 'aborted' | 'connection';
  body: string;
  contentType: string;
  /** The answer's headers (lower-case names). */
  headers: Record<string, string>;
  durationMs: number;
}

const DELIVERY_LIMIT = 200;

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
    if (error.name === 'AbortError') return 'aborted (sandbox reset or closed)';
    const cause: unknown = error.cause;
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return `${error.message}: ${code ?? cause.message}`;
    }
    return error.message;
  }
  return String(error);
}

/**
 * Outgoing POSTs to the app. `send` never throws: a refused connection, a
 * timeout or an abort is an outcome with a null status. `enqueue` keeps the
 * messages of one channel in order and lets `settled` wait for them.
 */
export class Deliverer {
  private controller = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly timeoutMs: () => number) {}

  /** POSTs `body`; `timeoutMs` overrides the configured delivery timeout. */
  async send(url: string, init: { headers: Record<string, string>; body: string; timeoutMs?: number }): Promise<DeliveryOutcome> {
    const started = performance.now();
    const timeoutMs = init.timeoutMs ?? this.timeoutMs();
    const elapsed = () => Math.round(performance.now() - started);
    const aborted = this.controller.signal;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), aborted]);
      const response = await fetch(url, { method: 'POST', headers: init.headers, body: init.body, redirect: 'manual', signal });
      const body = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      return { status: response.status, body, contentType: response.headers.get('content-type') ?? '', headers, durationMs: elapsed() };
    } catch (error) {
      const failure = aborted.aborted ? 'aborted' : error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'connection';
      return { status: null, error: describeFailure(error, timeoutMs), failure, body: '', contentType: '', headers: {}, durationMs: elapsed() };
    }
  }

  /** Waits `ms` (ends early, returning false, when deliveries are cancelled). */
  async wait(ms: number): Promise<boolean> {
    const signal = this.controller.signal;
    if (signal.aborted) return false;
    if (ms <= 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs `task` after the earlier tasks of `key`. */
  enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, tail);
    this.pending.add(tail);
    void tail.then(() => {
      this.pending.delete(tail);
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** Resolves once every queued delivery has ended. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Aborts the deliveries in flight (on reset and close). */
  cancelAll(): void {
    this.controller.abort();
    this.controller = new AbortController();
  }
}

/** Appends a delivery to a channel's history (the newest `DELIVERY_LIMIT` are kept). */
export function recordDelivery(
  list: DeliveryRecord[],
  kind: DeliveryRecord['kind'],
  at: number,
  outcome: DeliveryOutcome,
  extra: { messageNumber?: number; detail?: string } = {},
): DeliveryRecord {
  const entry: DeliveryRecord = {
    kind,
    at: new Date(at).toISOString(),
    status: outcome.status,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(extra.messageNumber !== undefined ? { messageNumber: extra.messageNumber } : {}),
    ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    durationMs: outcome.durationMs,
  };
  list.push(entry);
  if (list.length > DELIVERY_LIMIT) list.splice(0, list.length - DELIVERY_LIMIT);
  return entry;
}

// --- what the control API shows of a channel ---

export interface ChannelInfo {
  provider: 'google' | 'microsoft';
  /** `calendar` / `drive` (Google channels), `gmail` (a Gmail watch), `graph` (a Graph subscription). */
  kind: 'calendar' | 'drive' | 'gmail' | 'graph';
  /** Channel id, `gmail:<account>` for a Gmail watch, or the subscription id. */
  id: string;
  /** Google resource URI, Gmail topic name or Graph resource. */
  resource: string;
  resourceId?: string;
  changeType?: string;
  account: string;
  /** Where deliveries go (null: a Gmail watch with no push URL configured). */
  address: string | null;
  lifecycleAddress?: string;
  /** ISO 8601 and epoch ms. */
  expiration: string;
  expirationMs: number;
  stopped: boolean;
  expired: boolean;
  deliveries: DeliveryRecord[];
}

// --- signing key ---

export interface PublicJwks {
  keys: Array<{ kty: string; n: string; e: string; alg: 'RS256'; use: 'sig'; kid: string }>;
}

interface KeyMaterial {
  source: Record<string, unknown>;
  kid: string;
  privateKey: KeyObject;
  jwk: PublicJwks['keys'][number];
}

/** The sandbox's RSA key (generated on first use, kept in the state file) and its JWKS. */
export class PushSigner {
  private cache: KeyMaterial | undefined;

  constructor(private readonly store: SandboxStore) {}

  private material(): KeyMaterial {
    let source = this.store.push.signingKey;
    if (!source) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      source = { ...privateKey.export({ format: 'jwk' }) };
      this.store.push.signingKey = source;
      this.store.touch();
    }
    if (this.cache?.source === source) return this.cache;
    const privateKey = createPrivateKey({ key: source as JsonWebKey, format: 'jwk' });
    const exported = createPublicKey(privateKey).export({ format: 'jwk' });
    const n = exported.n ?? '';
    const e = exported.e ?? '';
    const kid = sha256(`${n}.${e}`).toString('hex').slice(0, 40);
    this.cache = { source, kid, privateKey, jwk: { kty: 'RSA', n, e, alg: 'RS256', use: 'sig', kid } };
    return this.cache;
  }

  jwks(): PublicJwks {
    return { keys: [{ ...this.material().jwk }] };
  }

  sign(payload: JWTPayload): Promise<string> {
    const { kid, privateKey } = this.material();
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
  }
}
