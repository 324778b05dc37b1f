/**
 * Delivering domain events to the organisation's endpoints. The rule target
 * (`deliver-event-webhooks`) turns one bus event into one message per
 * subscribed endpoint and makes the first attempt at once; a failed attempt
 * puts the message on the `due` index for its next one, which the
 * `retry-event-webhooks` sweep makes (every minute). Backoff is exponential
 * with jitter (30 s × 4ⁿ, capped at 6 h, ±20%) and attempts go on until the
 * message is 24 hours old; the failure after that dead-letters it (its
 * attempt log stays). An endpoint that has not accepted a single delivery for
 * 24 hours when one of its messages dead-letters is disabled, and an
 * organisation-level alert is raised.
 *
 * Endpoint failures are ours to retry, never the caller's: nothing here
 * throws because an endpoint failed (only a failure of our own storage
 * does, and EventBridge or the next sweep retries that).
 */
import * as z from 'zod';
import { tokenVault } from '../crypto';
import { inBatches } from '../concurrency';
import { remainingMs } from '../deadline';
import { raiseAlert } from '../domain/alerts';
import type { EventType } from '../events/catalog';
import { logger } from '../logging/logger';
import { forEachDuePage } from '../store/due';
import { DUE_SHARDS } from '../store/table';
import { keys } from '../store/keys';
import { endpointDisabledAlertKind, signingSecretContext } from './endpoints';
import { signedHeaders } from './signing';
import {
  claimAttempt,
  createMessage,
  disableEndpoint,
  dropMessage,
  getEndpoint,
  getEndpointWithSecret,
  getMessage,
  listEndpoints,
  messageSchema,
  noteEndpointOutcome,
  recordAttempt,
  settleMessage,
  type OutgoingEventType,
  type StoredMessage,
} from './store';
import { ATTEMPT_TIMEOUT_MS, postWebhook } from './transport';

/** Which bus events are delivered, under which outgoing type. */
export const outgoingTypeOf: Partial<Record<EventType, OutgoingEventType>> = {
  'integration.connected': 'connected',
  'integration.disconnected': 'disconnected',
  'integration.health_changed': 'health_changed',
  'integration.alert': 'alert',
  'integration.synced': 'synced',
};

/** Attempts go on until a message is this old; the next failure dead-letters it. */
export const RETRY_WINDOW_MS = 24 * 3600 * 1000;
/** An endpoint that accepted nothing for this long when a message dead-letters is disabled. */
export const DISABLE_AFTER_FAILING_MS = 24 * 3600 * 1000;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_DELAY_MS = 6 * 3600 * 1000;
/** A claimed attempt that never settles (the function died) is due again after this. */
const ATTEMPT_LEASE_MS = 2 * 60_000;
const CONCURRENT_ATTEMPTS = 10;
/** An endpoint failing for this long gets its first attempts from the sweep, not from the delivery function. */
export const FIRST_ATTEMPTS_TO_SWEEP_AFTER_MS = 5 * 60_000;

/**
 * The time of an attempt: the caller's `now` (the sweep's clock, which tests
 * move by days) moved on by the real time spent since, so a signature made
 * late in a long run still carries the time it was sent.
 */
type Clock = () => Date;
function clockFrom(now: Date): Clock {
  const started = Date.now();
  return () => new Date(now.getTime() + (Date.now() - started));
}

/** The delay before the attempt after failed attempt `attempt` (1-based): exponential, capped, ±20% jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(FIRST_RETRY_MS * 4 ** (attempt - 1), MAX_RETRY_DELAY_MS);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * What each type's `data` may carry: named fields only, so a field added to
 * a domain event later is not sent out until it is chosen here (never a
 * token or secret; the domain events carry none either).
 */
const common = { orgId: z.string(), integrationId: z.string().optional(), providerId: z.string().optional() };
const dataSchemas: Record<OutgoingEventType, z.ZodType<Record<string, unknown>>> = {
  connected: z.object({ ...common, externalAccountId: z.string().optional(), scopes: z.array(z.string()).optional(), reconnected: z.boolean().optional(), connectedBy: z.string().optional() }),
  disconnected: z.object({ ...common, reason: z.string().optional(), disconnectedBy: z.string().optional() }),
  health_changed: z.object({ ...common, from: z.string().optional(), to: z.string().optional(), reason: z.string().optional(), changedAt: z.string().optional() }),
  alert: z.object({ ...common, kind: z.string().optional(), reason: z.string().optional(), message: z.string().optional(), raisedAt: z.string().optional() }),
  synced: z.object({ ...common, syncId: z.string().optional(), trigger: z.string().optional(), counts: z.record(z.string(), z.unknown()).optional() }),
};

/**
 * The body of a delivery of `type`, as `deliverEvent` writes it; the OpenAPI
 * document's `webhooks` are generated from it.
 */
export const outgoingPayloadSchema = (type: OutgoingEventType) =>
  z.object({ type: z.literal(type), timestamp: z.iso.datetime(), data: dataSchemas[type] });

const busEventSchema = z.object({
  id: z.string().min(1),
  'detail-type': z.string(),
  time: z.string(),
  detail: z.object({ orgId: z.string().min(1) }).loose(),
});

/**
 * The rule target: one message per subscribed, enabled endpoint, each
 * attempted once now, except for an endpoint that is failing (see below).
 */
export async function deliverEvent(event: unknown, now: Date = new Date()): Promise<{ endpoints: number }> {
  const clock = clockFrom(now);
  const parsed = busEventSchema.safeParse(event);
  const type = parsed.success ? outgoingTypeOf[parsed.data['detail-type'] as EventType] : undefined;
  if (!parsed.success || type === undefined) {
    logger.warn('Not an event delivered to endpoints', { detailType: parsed.success ? parsed.data['detail-type'] : undefined });
    return { endpoints: 0 };
  }
  const { id: eventId, time, detail } = parsed.data;
  const data = dataSchemas[type].safeParse(detail);
  if (!data.success) {
    logger.warn('Event detail not deliverable', { eventType: type, eventId });
    return { endpoints: 0 };
  }
  const endpoints = (await listEndpoints(detail.orgId)).filter((endpoint) => endpoint.status === 'enabled' && endpoint.eventTypes.includes(type));
  const body = JSON.stringify({ type, timestamp: new Date(time).toISOString(), data: data.data });
  await inBatches(
    endpoints,
    async (endpoint) => {
      const message: StoredMessage = {
        orgId: detail.orgId,
        endpointId: endpoint.endpointId,
        eventId,
        messageId: `msg_${eventId.replace(/[^A-Za-z0-9]/g, '')}`,
        eventType: type,
        body,
        createdAt: now.toISOString(),
        attempts: 0,
        status: 'pending',
      };
      // EventBridge retried us: the message exists, and only its first attempt is ours to make.
      const stored = (await createMessage(message, now)) ? message : await getMessage(message);
      // An endpoint failing for a while gets its first attempt from the sweep (the message is due now):
      // there it waits its turn behind its other messages, instead of holding one of this function's
      // few concurrent invocations for a whole attempt timeout on every event. A passing blip does not count.
      const persistentlyFailing = endpoint.failingSince !== undefined && now.getTime() - Date.parse(endpoint.failingSince) >= FIRST_ATTEMPTS_TO_SWEEP_AFTER_MS;
      if (stored?.attempts === 0 && !persistentlyFailing) await attemptMessage(stored, clock);
    },
    CONCURRENT_ATTEMPTS,
  );
  return { endpoints: endpoints.length };
}

/** At most this many attempts per endpoint in one sweep: one endpoint's backlog never takes a whole run. */
export const MAX_ATTEMPTS_PER_ENDPOINT_PER_SWEEP = 20;
/** The sweep reads further pages only while fewer than this many attempts wait for a free slot. */
const MAX_WAITING_ATTEMPTS = 2 * CONCURRENT_ATTEMPTS;

/** An endpoint's share of one sweep: its attempts run one after another, and its first failure ends them. */
interface EndpointTurn {
  taken: number;
  over: boolean;
  last: Promise<void>;
}

/**
 * The sweep: every message whose next attempt is due by `now`, served
 * fairly. It starts at a random shard of the due index, so what a run has no
 * time for is not always the same shards' work; attempts run
 * `CONCURRENT_ATTEMPTS` at a time while further pages are read, so a slow
 * attempt holds up nobody else's; and an endpoint's attempts run one after
 * another, at most `MAX_ATTEMPTS_PER_ENDPOINT_PER_SWEEP` of them, its first
 * failure ending its turn. A hanging endpoint thus costs one attempt timeout
 * per sweep whatever its backlog; its other messages stay due for the next.
 */
export async function retryDueDeliveries(now: Date = new Date(), random: () => number = Math.random): Promise<{ attempted: number; deferred: number }> {
  const clock = clockFrom(now);
  const slots = new Slots(CONCURRENT_ATTEMPTS);
  const turns = new Map<string, EndpointTurn>();
  let attempted = 0;
  let deferred = 0;
  let storageFailure: unknown;
  const attemptInTurn = async (message: StoredMessage, turn: EndpointTurn) => {
    if (turn.over) {
      deferred += 1;
      return;
    }
    await slots.acquire();
    try {
      // Out of time: leave it due, the next run takes it.
      if ((remainingMs() ?? Number.POSITIVE_INFINITY) < ATTEMPT_TIMEOUT_MS + 5_000) {
        deferred += 1;
        return;
      }
      const outcome = await attemptMessage(message, clock);
      if (outcome !== 'not-attempted') attempted += 1;
      if (outcome === 'failed') turn.over = true;
    } finally {
      slots.release();
    }
  };
  await forEachDuePage(
    keys.outgoingDuePrefix,
    now,
    async (items) => {
      for (const item of items) {
        const parsed = messageSchema.safeParse(item);
        if (!parsed.success || parsed.data.status !== 'pending') continue;
        const message = parsed.data;
        const endpointKey = `${message.orgId}#${message.endpointId}`;
        const turn = turns.get(endpointKey) ?? { taken: 0, over: false, last: Promise.resolve() };
        turns.set(endpointKey, turn);
        if (turn.taken >= MAX_ATTEMPTS_PER_ENDPOINT_PER_SWEEP) {
          deferred += 1;
          continue;
        }
        turn.taken += 1;
        // A storage failure ends the endpoint's turn and, once every attempt under way is settled, the sweep.
        turn.last = turn.last
          .then(() => attemptInTurn(message, turn))
          .catch((error: unknown) => {
            storageFailure ??= error;
            turn.over = true;
          });
        await slots.fewerWaitingThan(MAX_WAITING_ATTEMPTS);
      }
    },
    Math.floor(random() * DUE_SHARDS),
  );
  await Promise.all([...turns.values()].map((turn) => turn.last));
  if (storageFailure !== undefined) throw storageFailure;
  return { attempted, deferred };
}

/** A counting semaphore: at most `size` holders at once, the others wait in turn. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  private readonly onRelease: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
    for (const listener of this.onRelease.splice(0)) listener();
  }

  /** Resolves once fewer than `limit` wait for a slot (back-pressure on whoever queues work). */
  async fewerWaitingThan(limit: number): Promise<void> {
    while (this.waiting.length >= limit) await new Promise<void>((resolve) => this.onRelease.push(resolve));
  }
}

/** One attempt of a message, if it is still ours to make, and how it went. */
async function attemptMessage(message: StoredMessage, clock: Clock): Promise<'succeeded' | 'failed' | 'not-attempted'> {
  const found = await getEndpointWithSecret(message.orgId, message.endpointId);
  if (found?.endpoint.status !== 'enabled' || message.body === undefined) {
    // Deleted or disabled since: nothing more is sent to it.
    await dropMessage(message);
    return 'not-attempted';
  }
  const claimed = await claimAttempt(message, new Date(clock().getTime() + ATTEMPT_LEASE_MS));
  if (!claimed?.body) return 'not-attempted';
  const attempt = claimed.attempts;
  const secret = (await tokenVault().open(found.secret, signingSecretContext(message.orgId, message.endpointId))).toString('utf8');
  const now = clock();
  const result = await postWebhook(found.endpoint.url, { ...signedHeaders(secret, claimed.messageId, now, claimed.body) }, claimed.body);
  const succeeded = 'statusCode' in result && result.statusCode >= 200 && result.statusCode < 300;
  const expired = now.getTime() - Date.parse(claimed.createdAt) >= RETRY_WINDOW_MS;
  const next = succeeded
    ? ({ status: 'succeeded' } as const)
    : expired
      ? ({ status: 'dead' } as const)
      : ({ status: 'pending', nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempt)) } as const);
  await recordAttempt(message.orgId, {
    endpointId: message.endpointId,
    messageId: claimed.messageId,
    eventType: claimed.eventType,
    attempt,
    at: now.toISOString(),
    outcome: succeeded ? 'succeeded' : 'failed',
    ...('statusCode' in result ? { statusCode: result.statusCode } : { errorClass: result.errorClass }),
    durationMs: result.durationMs,
    ...(next.status === 'pending' ? { nextAttemptAt: next.nextAttemptAt.toISOString() } : {}),
    deadLettered: next.status === 'dead',
  });
  await settleMessage(claimed, attempt, next);
  await noteEndpointOutcome(message.orgId, message.endpointId, succeeded, now);
  const outcome = { endpointId: message.endpointId, messageId: claimed.messageId, eventType: claimed.eventType, attempt, ...result };
  if (succeeded) logger.info('Event webhook delivered', outcome);
  else logger.warn(next.status === 'dead' ? 'Event webhook dead-lettered' : 'Event webhook attempt failed', outcome);
  if (next.status === 'dead') await disableIfFailing(message.orgId, message.endpointId, now);
  return succeeded ? 'succeeded' : 'failed';
}

/** After a dead letter: an endpoint that accepted nothing for a day is disabled, and the organisation is alerted once. */
async function disableIfFailing(orgId: string, endpointId: string, now: Date): Promise<void> {
  const endpoint = await getEndpoint(orgId, endpointId);
  if (endpoint?.failingSince === undefined || now.getTime() - Date.parse(endpoint.failingSince) < DISABLE_AFTER_FAILING_MS) return;
  if (!(await disableEndpoint(orgId, endpointId, 'failing', now))) return;
  logger.warn('Event endpoint disabled', { endpointId, failingSince: endpoint.failingSince });
  await raiseAlert({
    orgId,
    kind: endpointDisabledAlertKind(endpointId),
    reason: 'event_endpoint_disabled',
    // By id only: alerts are read by hr and managers too, endpoints (where events go) by admins only.
    message: `Outgoing webhook endpoint ${endpointId} was disabled: it accepted no delivery since ${endpoint.failingSince}. Fix it, then delete and register it again.`,
    detail: { endpointId, failingSince: endpoint.failingSince },
  });
}
