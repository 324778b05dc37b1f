import * as z from 'zod';
import { GRAPH_CHANGE_TYPES, SandboxInputError, SandboxNotFoundError, type GraphLifecycleInput, type GraphNotifyInput } from './control';
import { emptyResponse, type SandboxRequest, type SandboxResponse } from './http';
import { randomB64url, randomId } from './ids';
import { hasScope, microsoftUser } from './microsoft';
import { httpUrlSchema, recordDelivery, type ChannelInfo, type Deliverer, type DeliveryOutcome, type GraphResourceKind, type PushConfig } from './push';
import type { GrantRecord, GraphSubscriptionRecord, SandboxStore } from './state';

/**
 * Microsoft Graph change notifications: `/subscriptions` (create with the
 * validation handshake, get, list, renew, reauthorize, delete), a maximum
 * lifetime per resource kind, notifications carrying `clientState`, and
 * lifecycle events. Past its expiration (sandbox clock) a subscription is gone.
 */

const GRAPH_SUBSCRIPTION_CONTEXT = 'https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity';
const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'] as const;
export const GRAPH_VALIDATION_FAILED =
  'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.';

/** Delegated permissions that allow a subscription, by resource kind (`other` accepts every valid token). */
const KIND_SCOPES: Record<GraphResourceKind, readonly string[]> = {
  event: ['Calendars.Read', 'Calendars.ReadWrite', 'Calendars.ReadBasic'],
  message: ['Mail.Read', 'Mail.ReadWrite', 'Mail.ReadBasic'],
  contact: ['Contacts.Read', 'Contacts.ReadWrite'],
  driveItem: ['Files.Read', 'Files.ReadWrite', 'Files.Read.All', 'Files.ReadWrite.All'],
  chatMessage: ['ChannelMessage.Read.All', 'Chat.Read', 'Chat.ReadWrite'],
  other: [],
};

/** What a subscription's `resource` watches (`/me/events`, `users/{id}/messages`, `me/drive/root`, …). */
export function graphResourceKind(resource: string): GraphResourceKind {
  const path = (resource.split('?')[0] ?? '').replace(/^\/+|\/+$/g, '').toLowerCase();
  const owner = String.raw`(?:me|users(?:/[^/]+|\('[^']*'\)))`;
  const folder = String.raw`(?:/[^/]+|\('[^']*'\))`;
  if (new RegExp(String.raw`^${owner}/(?:events|calendar/events|calendars${folder}/events)$`).test(path)) return 'event';
  if (new RegExp(String.raw`^${owner}/(?:messages|mailfolders${folder}/messages)$`).test(path)) return 'message';
  if (new RegExp(String.raw`^${owner}/(?:contacts|contactfolders${folder}/contacts)$`).test(path)) return 'contact';
  if (/^(?:(?:me|users\/[^/]+|groups\/[^/]+|sites\/[^/]+)\/drive|drives\/[^/]+)\/root$/.test(path)) return 'driveItem';
  if (/^(?:teams\/[^/]+\/channels\/[^/]+|chats\/[^/]+)\/messages$|^(?:teams|chats)\/getallmessages$/.test(path)) return 'chatMessage';
  return 'other';
}

const createSchema = z
  .object({
    changeType: z.string().optional(),
    notificationUrl: z.string().optional(),
    lifecycleNotificationUrl: z.string().optional(),
    resource: z.string().optional(),
    expirationDateTime: z.string().optional(),
    clientState: z.string().optional(),
    latestSupportedTlsVersion: z.string().optional(),
  })
  .loose();

const updateSchema = z.object({ expirationDateTime: z.string().optional() }).loose();

export interface GraphApiContext {
  authenticate(request: SandboxRequest, anyOf: readonly string[]): { grant: GrantRecord; scopes: string[] } | SandboxResponse;
  graphError(request: SandboxRequest, status: number, code: string, message: string, headers?: Record<string, string>, inner?: Record<string, string>): SandboxResponse;
  graphJson(request: SandboxRequest, status: number, body: unknown): SandboxResponse;
  graphBody(request: SandboxRequest): { ok: true; value: unknown } | { ok: false; response: SandboxResponse };
}

export interface GraphNotifyResult {
  subscriptionId: string;
  changeType: string;
  /** What the app answered each notification (null: no answer). */
  statuses: Array<number | null>;
  /** The ids of the changed items, one per notification. */
  resourceIds: string[];
}

export interface GraphLifecycleResult {
  subscriptionId: string;
  lifecycleEvent: GraphLifecycleInput['lifecycleEvent'];
  /** Where it went: the lifecycle URL, or the notification URL when the subscription has none. */
  url: string;
  status: number | null;
  error?: string;
  /** `subscriptionRemoved` deletes the subscription. */
  removed: boolean;
}

export interface MicrosoftPush {
  /** The answer to a `/v1.0/subscriptions…` request (graphPath is the path after `/graph`), or undefined. */
  handle(request: SandboxRequest, graphPath: string, api: GraphApiContext): SandboxResponse | Promise<SandboxResponse> | undefined;
  notify(input: GraphNotifyInput): Promise<GraphNotifyResult>;
  lifecycle(input: GraphLifecycleInput): Promise<GraphLifecycleResult>;
  channels(): ChannelInfo[];
}

interface Deps {
  store: SandboxStore;
  deliverer: Deliverer;
  config: () => PushConfig;
}

/** Graph writes date-times with seven fractional digits. */
const graphDate = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '0000Z');

export function createMicrosoftPush({ store, deliverer, config }: Deps): MicrosoftPush {
  const subscriptions = () => store.push.graphSubscriptions;

  /** Expired subscriptions disappear. */
  function sweep(): void {
    const now = store.now();
    let removed = false;
    for (const [id, subscription] of Object.entries(subscriptions())) {
      if (subscription.expiration <= now) {
        delete subscriptions()[id];
        removed = true;
      }
    }
    if (removed) store.touch();
  }

  function live(id: string): GraphSubscriptionRecord | undefined {
    sweep();
    return subscriptions()[id];
  }

  function entity(subscription: GraphSubscriptionRecord): Record<string, unknown> {
    return {
      '@odata.context': GRAPH_SUBSCRIPTION_CONTEXT,
      id: subscription.id,
      resource: subscription.resource,
      applicationId: subscription.clientId,
      changeType: subscription.changeType,
      clientState: subscription.clientState ?? null,
      notificationUrl: subscription.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: subscription.lifecycleNotificationUrl ?? null,
      expirationDateTime: graphDate(subscription.expiration),
      creatorId: microsoftUser(subscription.account).oid,
      includeResourceData: null,
      latestSupportedTlsVersion: subscription.latestSupportedTlsVersion,
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
  }

  /** The expiration, or the Graph error for it (`operation`: Create or Update). */
  function checkExpiration(
    request: SandboxRequest,
    api: GraphApiContext,
    operation: 'Create' | 'Update',
    raw: string | undefined,
    kind: GraphResourceKind,
  ): number | SandboxResponse {
    const extension = (reason: string) =>
      api.graphError(request, 400, 'ExtensionError', `Operation: ${operation}; Exception: [Status Code: BadRequest; Reason: ${reason}]`, {}, { code: 'InvalidRequest' });
    if (raw === undefined || raw.trim() === '') return api.graphError(request, 400, 'InvalidRequest', "The property 'expirationDateTime' is required.");
    const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw.trim()) ? Date.parse(raw.trim()) : Number.NaN;
    if (Number.isNaN(ms)) return api.graphError(request, 400, 'BadRequest', `Cannot convert the literal '${raw}' to the expected type 'Edm.DateTimeOffset'.`);
    const now = store.now();
    if (ms <= now) return extension('Subscription expiration must be in the future.');
    const max = config().graphMaxExpirationMinutes[kind];
    if (ms > now + max * 60_000) return extension(`Subscription expiration can only be ${max} minutes in the future.`);
    return ms;
  }

  function validationOk(outcome: DeliveryOutcome, token: string): boolean {
    return outcome.status === 200 && /^text\/plain\b/i.test(outcome.contentType) && outcome.body === token;
  }

  /** POSTs `url?validationToken=…` and checks the echo. */
  async function handshake(url: string): Promise<{ ok: boolean; outcome: DeliveryOutcome; at: number }> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomId()}`;
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    const at = store.now();
    const outcome = await deliverer.send(target, { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '' });
    return { ok: validationOk(outcome, token), outcome, at };
  }

  async function create(request: SandboxRequest, api: GraphApiContext): Promise<SandboxResponse> {
    const auth = api.authenticate(request, []);
    if ('status' in auth) return auth;
    const body = api.graphBody(request);
    if (!body.ok) return body.response;
    const parsed = createSchema.safeParse(body.value);
    if (!parsed.success) return api.graphError(request, 400, 'BadRequest', z.prettifyError(parsed.error));
    const input = parsed.data;
    const invalid = (message: string) => api.graphError(request, 400, 'InvalidRequest', message);

    if (!input.resource) return invalid("The property 'resource' is required.");
    if (!input.changeType) return invalid("The property 'changeType' is required.");
    const changeTypes = input.changeType.split(',').map((part) => part.trim());
    const unknown = changeTypes.find((type) => !(GRAPH_CHANGE_TYPES as readonly string[]).includes(type));
    if (unknown !== undefined) return invalid(`'${unknown}' is not a valid change type. Use created, updated or deleted, comma separated.`);
    if (new Set(changeTypes).size !== changeTypes.length) return invalid(`Duplicate change type in '${input.changeType}'.`);
    if (!input.notificationUrl) return invalid("The property 'notificationUrl' is required.");
    if (!httpUrlSchema.safeParse(input.notificationUrl).success) return invalid(`Invalid notification url '${input.notificationUrl}'.`);
    if (input.lifecycleNotificationUrl !== undefined && !httpUrlSchema.safeParse(input.lifecycleNotificationUrl).success) {
      return invalid(`Invalid lifecycle notification url '${input.lifecycleNotificationUrl}'.`);
    }
    if (input.clientState !== undefined && input.clientState.length > 128) return invalid('clientState must be at most 128 characters long.');
    const tls = input.latestSupportedTlsVersion ?? 'v1_2';
    if (!(TLS_VERSIONS as readonly string[]).includes(tls)) return invalid(`Invalid latestSupportedTlsVersion '${tls}'. Use ${TLS_VERSIONS.join(', ')}.`);

    const kind = graphResourceKind(input.resource);
    if (!hasScope(auth.scopes, KIND_SCOPES[kind]) && KIND_SCOPES[kind].length > 0) {
      return api.graphError(request, 403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Insufficient privileges to complete the operation.]');
    }
    if (kind === 'driveItem' && input.changeType !== 'updated') {
      return invalid(`ChangeType '${input.changeType}' is not supported for resource '${input.resource}'. Only 'updated' is supported.`);
    }
    const expiration = checkExpiration(request, api, 'Create', input.expirationDateTime, kind);
    if (typeof expiration !== 'number') return expiration;

    const deliveries: GraphSubscriptionRecord['deliveries'] = [];
    for (const url of [input.notificationUrl, input.lifecycleNotificationUrl]) {
      if (url === undefined) continue;
      const check = await handshake(url);
      recordDelivery(deliveries, 'validation', check.at, check.outcome);
      if (!check.ok) return api.graphError(request, 400, 'InvalidRequest', GRAPH_VALIDATION_FAILED);
    }

    const subscription: GraphSubscriptionRecord = {
      id: randomId(),
      account: auth.grant.account,
      clientId: auth.grant.clientId,
      resource: input.resource,
      changeType: changeTypes.join(','),
      notificationUrl: input.notificationUrl,
      ...(input.lifecycleNotificationUrl !== undefined ? { lifecycleNotificationUrl: input.lifecycleNotificationUrl } : {}),
      ...(input.clientState !== undefined ? { clientState: input.clientState } : {}),
      latestSupportedTlsVersion: tls,
      expiration,
      createdAt: store.now(),
      deliveries,
    };
    subscriptions()[subscription.id] = subscription;
    store.touch();
    return api.graphJson(request, 201, entity(subscription));
  }

  /** The caller's live subscription, or its 401/403/404. */
  function owned(request: SandboxRequest, api: GraphApiContext, id: string): GraphSubscriptionRecord | SandboxResponse {
    const auth = api.authenticate(request, []);
    if ('status' in auth) return auth;
    const subscription = live(id);
    if (!subscription || subscription.clientId !== auth.grant.clientId || subscription.account !== auth.grant.account) {
      return api.graphError(request, 404, 'ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    }
    const needed = KIND_SCOPES[graphResourceKind(subscription.resource)];
    if (needed.length > 0 && !hasScope(auth.scopes, needed)) {
      return api.graphError(request, 403, 'ExtensionError', 'Operation: Get; Exception: [Status Code: Forbidden; Reason: Insufficient privileges to complete the operation.]');
    }
    return subscription;
  }

  function update(request: SandboxRequest, api: GraphApiContext, id: string): SandboxResponse {
    const subscription = owned(request, api, id);
    if ('status' in subscription) return subscription;
    const body = api.graphBody(request);
    if (!body.ok) return body.response;
    const parsed = updateSchema.safeParse(body.value);
    if (!parsed.success) return api.graphError(request, 400, 'BadRequest', z.prettifyError(parsed.error));
    const expiration = checkExpiration(request, api, 'Update', parsed.data.expirationDateTime, graphResourceKind(subscription.resource));
    if (typeof expiration !== 'number') return expiration;
    subscription.expiration = expiration;
    store.touch();
    return api.graphJson(request, 200, entity(subscription));
  }

  function remove(request: SandboxRequest, api: GraphApiContext, id: string): SandboxResponse {
    const subscription = owned(request, api, id);
    if ('status' in subscription) return subscription;
    delete subscriptions()[subscription.id];
    store.touch();
    const requestId = randomId();
    return emptyResponse(204, { 'request-id': requestId, 'client-request-id': request.headers['client-request-id'] ?? requestId });
  }

  function list(request: SandboxRequest, api: GraphApiContext): SandboxResponse {
    const auth = api.authenticate(request, []);
    if ('status' in auth) return auth;
    sweep();
    const mine = Object.values(subscriptions()).filter(
      (subscription) => subscription.clientId === auth.grant.clientId && subscription.account === auth.grant.account,
    );
    const value = mine.map((subscription) => {
      const { '@odata.context': _context, ...rest } = entity(subscription);
      return rest;
    });
    return api.graphJson(request, 200, { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscriptions', value });
  }

  function handle(request: SandboxRequest, graphPath: string, api: GraphApiContext): SandboxResponse | Promise<SandboxResponse> | undefined {
    const { method } = request;
    if (/^\/v1\.0\/subscriptions\/?$/i.test(graphPath)) {
      if (method === 'POST') return create(request, api);
      if (method === 'GET') return list(request, api);
      return undefined;
    }
    const one = /^\/v1\.0\/subscriptions\/([^/]+)(\/reauthorize)?\/?$/i.exec(graphPath);
    const id = one?.[1] ? safeDecode(one[1]) : undefined;
    if (id === undefined) return undefined;
    if (one?.[2]) {
      if (method !== 'POST') return undefined;
      const subscription = owned(request, api, id);
      if ('status' in subscription) return subscription;
      return emptyResponse(204);
    }
    if (method === 'GET') {
      const subscription = owned(request, api, id);
      return 'status' in subscription ? subscription : api.graphJson(request, 200, entity(subscription));
    }
    if (method === 'PATCH') return update(request, api, id);
    if (method === 'DELETE') return remove(request, api, id);
    return undefined;
  }

  // --- deliveries ---

  function changedItem(subscription: GraphSubscriptionRecord, itemId: string): { resource: string; resourceData?: Record<string, string> } {
    const kind = graphResourceKind(subscription.resource);
    const oid = microsoftUser(subscription.account).oid;
    const entityOf = (type: string, collection: string) => {
      const resource = `Users/${oid}/${collection}/${itemId}`;
      return { resource, resourceData: { '@odata.type': type, '@odata.id': resource, '@odata.etag': `W/"${randomB64url(18)}"`, id: itemId } };
    };
    switch (kind) {
      case 'event':
        return entityOf('#Microsoft.Graph.Event', 'Events');
      case 'message':
        return entityOf('#Microsoft.Graph.Message', 'Messages');
      case 'contact':
        return entityOf('#Microsoft.Graph.Contact', 'Contacts');
      case 'driveItem':
        // OneDrive says only that something changed under the root: the app asks for the delta.
        return { resource: subscription.resource };
      case 'chatMessage': {
        const resource = `${subscription.resource.replace(/^\/+/, '')}('${itemId}')`;
        return { resource, resourceData: { '@odata.type': '#Microsoft.Graph.chatMessage', '@odata.id': resource, id: itemId } };
      }
      default: {
        const resource = `${subscription.resource.replace(/^\/+|\/+$/g, '')}/${itemId}`;
        return { resource, resourceData: { '@odata.type': '#Microsoft.Graph.Entity', '@odata.id': resource, id: itemId } };
      }
    }
  }

  function post(subscription: GraphSubscriptionRecord, url: string, item: Record<string, unknown>, kind: 'notification' | 'lifecycle', detail: string): Promise<DeliveryOutcome | undefined> {
    return deliverer.enqueue(`graph:${subscription.id}`, async () => {
      if (subscriptions()[subscription.id] !== subscription || subscription.expiration <= store.now()) return undefined;
      const at = store.now();
      const outcome = await deliverer.send(url, {
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ value: [item] }),
      });
      recordDelivery(subscription.deliveries, kind, at, outcome, { detail });
      store.touch();
      return outcome;
    });
  }

  function liveOrThrow(id: string): GraphSubscriptionRecord {
    const subscription = live(id);
    if (!subscription) throw new SandboxNotFoundError(`No Graph subscription ${id} (never created, deleted, removed or expired)`);
    return subscription;
  }

  async function notify(input: GraphNotifyInput): Promise<GraphNotifyResult> {
    const subscription = liveOrThrow(input.subscriptionId);
    const subscribed = subscription.changeType.split(',');
    const changeType = input.changeType ?? subscribed[0] ?? 'updated';
    if (!subscribed.includes(changeType)) {
      throw new SandboxInputError(`Subscription ${subscription.id} is for ${subscription.changeType}, not ${changeType}`);
    }
    const tenantId = microsoftUser(subscription.account).tid;
    const result: GraphNotifyResult = { subscriptionId: subscription.id, changeType, statuses: [], resourceIds: [] };
    for (let i = 0; i < (input.count ?? 1); i += 1) {
      const itemId = input.resourceId ?? `AAMkA${randomB64url(33)}=`;
      const changed = changedItem(subscription, itemId);
      const item = {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: graphDate(subscription.expiration),
        changeType,
        resource: changed.resource,
        ...(changed.resourceData ? { resourceData: changed.resourceData } : {}),
        clientState: subscription.clientState ?? null,
        tenantId,
      };
      const outcome = await post(subscription, subscription.notificationUrl, item, 'notification', changeType);
      if (!outcome) break;
      result.statuses.push(outcome.status);
      result.resourceIds.push(itemId);
    }
    return result;
  }

  async function lifecycle(input: GraphLifecycleInput): Promise<GraphLifecycleResult> {
    const subscription = liveOrThrow(input.subscriptionId);
    const tenantId = microsoftUser(subscription.account).tid;
    const url = subscription.lifecycleNotificationUrl ?? subscription.notificationUrl;
    const item = {
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: graphDate(subscription.expiration),
      lifecycleEvent: input.lifecycleEvent,
      clientState: subscription.clientState ?? null,
      tenantId,
      organizationId: tenantId,
    };
    const outcome = await post(subscription, url, item, 'lifecycle', input.lifecycleEvent);
    const removed = input.lifecycleEvent === 'subscriptionRemoved';
    if (removed && subscriptions()[subscription.id] === subscription) {
      delete subscriptions()[subscription.id];
      store.touch();
    }
    return {
      subscriptionId: subscription.id,
      lifecycleEvent: input.lifecycleEvent,
      url,
      status: outcome?.status ?? null,
      ...(outcome?.error !== undefined ? { error: outcome.error } : {}),
      removed,
    };
  }

  function channels(): ChannelInfo[] {
    sweep();
    return Object.values(subscriptions()).map((subscription) => ({
      provider: 'microsoft',
      kind: 'graph',
      id: subscription.id,
      resource: subscription.resource,
      changeType: subscription.changeType,
      account: subscription.account,
      address: subscription.notificationUrl,
      ...(subscription.lifecycleNotificationUrl !== undefined ? { lifecycleAddress: subscription.lifecycleNotificationUrl } : {}),
      expiration: new Date(subscription.expiration).toISOString(),
      expirationMs: subscription.expiration,
      stopped: false,
      expired: false,
      deliveries: subscription.deliveries.map((delivery) => ({ ...delivery })),
    }));
  }

  return { handle, notify, lifecycle, channels };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
