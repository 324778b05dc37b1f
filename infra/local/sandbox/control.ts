import * as z from 'zod';
import { SandboxConflictError, SandboxInputError, SandboxNotFoundError } from './errors';
import { dataResourceSchema, type DataResource } from './data';
import { dataOpSchema, type DataItemInfo, type DataOp, type DataOpResult } from './data-ops';
import type { ActiveFault, FaultSpec } from './faults';
import { faultSpecSchema } from './faults';
import type { GmailPushResult, GoogleNotifyResult } from './google-push';
import { jsonResponse, paramsRecord, type SandboxRequest, type SandboxResponse } from './http';
import type { GraphLifecycleResult, GraphNotifyResult } from './microsoft-push';
import { pushConfigInputSchema, type ChannelInfo, type PushConfig, type PushConfigInput } from './push';
import {
  slackEventInputSchema,
  slackUrlVerificationInputSchema,
  type SlackEventInput,
  type SlackEventResult,
  type SlackUrlVerificationInput,
  type SlackUrlVerificationResult,
} from './slack-events';
import {
  providerIdSchema,
  type CalendarEventRecord,
  type ProviderId,
  type SentEmail,
  type SlackEventDelivery,
  type SlackMessage,
  type TeamsMessage,
  type TokenCounts,
} from './state';

/**
 * The control API under `/_control/` (JSON in, JSON out) for tests and
 * developers. Every operation is also a method of `Sandbox`.
 */

export interface LoggedRequest {
  seq: number;
  provider: ProviderId;
  method: string;
  /** The path after the provider segment, e.g. `/slack/api/chat.postMessage`. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed form or JSON, raw text otherwise, null when empty. */
  body: unknown;
  /** Sandbox-clock time, ISO 8601. */
  at: string;
  /** The status the sandbox answered (absent while the answer is pending). */
  status?: number;
}

export interface ClockInfo {
  now: string;
  nowMs: number;
  offsetSeconds: number;
}

export const revokeInputSchema = z
  .object({ provider: providerIdSchema, token: z.string().min(1).optional(), account: z.string().min(1).optional() })
  .strict()
  .refine((input) => input.token !== undefined || input.account !== undefined, 'give a token or an account');
export type RevokeInput = z.infer<typeof revokeInputSchema>;

export const expireInputSchema = z.object({ provider: providerIdSchema, token: z.string().min(1).optional() }).strict();
export type ExpireInput = z.infer<typeof expireInputSchema>;

export const advanceSecondsSchema = z.number().finite().min(0).max(10 * 366 * 24 * 3600);

const clockInputSchema = z.object({ advanceSeconds: advanceSecondsSchema }).strict();

const requestsQuerySchema = z.object({
  provider: providerIdSchema.optional(),
  since: z.coerce.number().int().min(0).optional(),
});

const providerQuerySchema = z.object({ provider: providerIdSchema.optional() });

// --- push notifications ---

export const GOOGLE_RESOURCE_STATES = ['exists', 'not_exists', 'add', 'remove', 'update', 'trash', 'untrash', 'change'] as const;
export type GoogleResourceState = (typeof GOOGLE_RESOURCE_STATES)[number];

const countSchema = z.number().int().min(1).max(100);

export const googleNotifyInputSchema = z
  .object({ channelId: z.string().min(1), state: z.enum(GOOGLE_RESOURCE_STATES).optional(), count: countSchema.optional() })
  .strict();
export type GoogleNotifyInput = z.infer<typeof googleNotifyInputSchema>;

export const gmailPushInputSchema = z
  .object({
    emailAddress: z.string().min(3),
    historyId: z.union([z.string().regex(/^\d{1,16}$/), z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)]).optional(),
    /** The OIDC token's `aud`; by default the configured audience, else the push URL (as in Pub/Sub). */
    audience: z.string().min(1).optional(),
  })
  .strict();
export type GmailPushInput = z.infer<typeof gmailPushInputSchema>;

export const GRAPH_CHANGE_TYPES = ['created', 'updated', 'deleted'] as const;
export const GRAPH_LIFECYCLE_EVENTS = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'] as const;

export const graphNotifyInputSchema = z
  .object({
    subscriptionId: z.string().min(1),
    changeType: z.enum(GRAPH_CHANGE_TYPES).optional(),
    count: countSchema.optional(),
    /** The id of the changed item (random by default). */
    resourceId: z.string().min(1).optional(),
  })
  .strict();
export type GraphNotifyInput = z.infer<typeof graphNotifyInputSchema>;

export const graphLifecycleInputSchema = z.object({ subscriptionId: z.string().min(1), lifecycleEvent: z.enum(GRAPH_LIFECYCLE_EVENTS) }).strict();
export type GraphLifecycleInput = z.infer<typeof graphLifecycleInputSchema>;

export const channelsProviderSchema = z.enum(['google', 'microsoft']);
const channelsQuerySchema = z.object({ provider: channelsProviderSchema.optional() });

export { SandboxConflictError, SandboxInputError, SandboxNotFoundError };

// --- sync data ---

export const dataItemsQuerySchema = z.object({
  resource: dataResourceSchema,
  account: z.string().trim().min(1).optional(),
  includeDeleted: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true'),
});

export interface DataItemsQuery {
  resource: DataResource;
  account?: string | undefined;
  includeDeleted?: boolean | undefined;
}

export interface DataItemsResult {
  provider: ProviderId;
  resource: DataResource;
  account: string;
  /** The collection's change sequence now. */
  sequence: number;
  items: DataItemInfo[];
}

export interface ControlTarget {
  requests(filter?: { provider?: ProviderId | undefined; since?: number | undefined }): LoggedRequest[];
  revoke(input: RevokeInput): { revoked: number };
  expire(input: ExpireInput): { expired: number };
  addFault(spec: FaultSpec): void;
  clearFaults(): void;
  faults(): ActiveFault[];
  advanceClock(seconds: number): ClockInfo;
  clock(): ClockInfo;
  emails(provider?: 'google' | 'microsoft'): SentEmail[];
  slackMessages(): SlackMessage[];
  teamsMessages(): TeamsMessage[];
  calendarEvents(provider?: 'google' | 'microsoft'): CalendarEventRecord[];
  tokenCounts(provider?: ProviderId): Partial<Record<ProviderId, TokenCounts>>;
  reset(): void;
  configurePush(input: PushConfigInput): PushConfig;
  pushConfig(): PushConfig;
  channels(provider?: 'google' | 'microsoft'): ChannelInfo[];
  googleNotify(input: GoogleNotifyInput): Promise<GoogleNotifyResult>;
  gmailPush(input: GmailPushInput): Promise<GmailPushResult>;
  graphNotify(input: GraphNotifyInput): Promise<GraphNotifyResult>;
  graphLifecycle(input: GraphLifecycleInput): Promise<GraphLifecycleResult>;
  waitForDeliveries(): Promise<void>;
  changeData(provider: ProviderId, op: DataOp): DataOpResult;
  dataItems(provider: ProviderId, query: DataItemsQuery): DataItemsResult;
  slackEvent(input: SlackEventInput): Promise<SlackEventResult>;
  slackEvents(): SlackEventDelivery[];
  slackUrlVerification(input?: SlackUrlVerificationInput): Promise<SlackUrlVerificationResult>;
}

class ControlInputError extends Error {}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ControlInputError(z.prettifyError(parsed.error));
  return parsed.data;
}

function jsonBody(request: SandboxRequest): unknown {
  const text = request.body.toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlInputError('The body must be JSON');
  }
}

export async function handleControl(target: ControlTarget, request: SandboxRequest): Promise<SandboxResponse> {
  const route = request.path.replace(/^\/_control/, '').replace(/\/+$/, '') || '/';
  const query = paramsRecord(request.query);
  const { method } = request;
  try {
    const data = /^\/data\/([^/]+)$/.exec(route);
    if (data?.[1]) {
      const provider = parse(providerIdSchema, data[1]);
      if (method === 'POST') return jsonResponse(200, target.changeData(provider, parse(dataOpSchema, jsonBody(request))));
      if (method === 'GET') return jsonResponse(200, target.dataItems(provider, parse(dataItemsQuerySchema, query)));
      return jsonResponse(405, { error: `Method ${method} not allowed on /_control${route}` });
    }
    switch (route) {
      case '/requests':
        if (method !== 'GET') break;
        return jsonResponse(200, { requests: target.requests(parse(requestsQuerySchema, query)) });
      case '/revoke':
        if (method !== 'POST') break;
        return jsonResponse(200, target.revoke(parse(revokeInputSchema, jsonBody(request))));
      case '/expire':
        if (method !== 'POST') break;
        return jsonResponse(200, target.expire(parse(expireInputSchema, jsonBody(request))));
      case '/faults':
        if (method === 'GET') return jsonResponse(200, { faults: target.faults() });
        if (method === 'DELETE') {
          target.clearFaults();
          return jsonResponse(200, { faults: [] });
        }
        if (method === 'POST') {
          target.addFault(parse(faultSpecSchema, jsonBody(request)));
          return jsonResponse(200, { faults: target.faults() });
        }
        break;
      case '/clock':
        if (method === 'GET') return jsonResponse(200, target.clock());
        if (method === 'POST') return jsonResponse(200, target.advanceClock(parse(clockInputSchema, jsonBody(request)).advanceSeconds));
        break;
      case '/emails': {
        if (method !== 'GET') break;
        const provider = parse(providerQuerySchema, query).provider;
        if (provider !== undefined && provider !== 'google' && provider !== 'microsoft') return jsonResponse(200, { emails: [] });
        return jsonResponse(200, { emails: target.emails(provider) });
      }
      case '/slack/messages':
        if (method !== 'GET') break;
        return jsonResponse(200, { messages: target.slackMessages() });
      case '/teams/messages':
        if (method !== 'GET') break;
        return jsonResponse(200, { messages: target.teamsMessages() });
      case '/calendar/events': {
        if (method !== 'GET') break;
        const provider = parse(providerQuerySchema, query).provider;
        if (provider !== undefined && provider !== 'google' && provider !== 'microsoft') return jsonResponse(200, { events: [] });
        return jsonResponse(200, { events: target.calendarEvents(provider) });
      }
      case '/tokens':
        if (method !== 'GET') break;
        return jsonResponse(200, { tokens: target.tokenCounts(parse(providerQuerySchema, query).provider) });
      case '/reset':
        if (method !== 'POST') break;
        target.reset();
        return jsonResponse(200, { reset: true });
      case '/push-config':
        if (method === 'GET') return jsonResponse(200, target.pushConfig());
        if (method === 'POST') return jsonResponse(200, target.configurePush(parse(pushConfigInputSchema, jsonBody(request))));
        break;
      case '/channels':
        if (method !== 'GET') break;
        return jsonResponse(200, { channels: target.channels(parse(channelsQuerySchema, query).provider) });
      case '/deliveries/settle':
        if (method !== 'POST') break;
        await target.waitForDeliveries();
        return jsonResponse(200, { settled: true });
      case '/google/notify':
        if (method !== 'POST') break;
        return jsonResponse(200, await target.googleNotify(parse(googleNotifyInputSchema, jsonBody(request))));
      case '/google/gmail-push':
        if (method !== 'POST') break;
        return jsonResponse(200, await target.gmailPush(parse(gmailPushInputSchema, jsonBody(request))));
      case '/microsoft/notify':
        if (method !== 'POST') break;
        return jsonResponse(200, await target.graphNotify(parse(graphNotifyInputSchema, jsonBody(request))));
      case '/slack/events':
        if (method === 'GET') return jsonResponse(200, { events: target.slackEvents() });
        if (method === 'POST') return jsonResponse(200, await target.slackEvent(parse(slackEventInputSchema, jsonBody(request))));
        break;
      case '/slack/url-verification':
        if (method !== 'POST') break;
        return jsonResponse(200, await target.slackUrlVerification(parse(slackUrlVerificationInputSchema, jsonBody(request))));
      case '/microsoft/lifecycle':
        if (method !== 'POST') break;
        return jsonResponse(200, await target.graphLifecycle(parse(graphLifecycleInputSchema, jsonBody(request))));
      default:
        return jsonResponse(404, { error: `No control endpoint ${method} /_control${route === '/' ? '' : route}` });
    }
    return jsonResponse(405, { error: `Method ${method} not allowed on /_control${route}` });
  } catch (error) {
    if (error instanceof ControlInputError || error instanceof SandboxInputError) return jsonResponse(400, { error: error.message });
    if (error instanceof SandboxNotFoundError) return jsonResponse(404, { error: error.message });
    if (error instanceof SandboxConflictError) return jsonResponse(409, { error: error.message });
    throw error;
  }
}
