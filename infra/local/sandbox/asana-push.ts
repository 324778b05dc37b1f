import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { asanaError } from './asana-api';
import type { AsanaData, AsanaEvent, AsanaWebhook } from './asana-data';
import { jsonResponse, parseBody, type SandboxRequest, type SandboxResponse } from './http';
import { randomHex } from './ids';
import type { Deliverer } from './push';
import { recordIssuedSecret } from './secrets-ledger';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Asana webhooks. `POST /webhooks {data:{resource, target}}` performs the
 * handshake before it answers: it POSTs to the target with a new
 * `X-Hook-Secret`, and only a 200 or 204 echoing that header creates the
 * webhook (201); anything else is a 400 and nothing is created. Every later
 * delivery is `{events:[…]}` signed with `X-Hook-Signature` (hex HMAC-SHA256
 * of the body under the secret); a heartbeat is an empty `events` array. The
 * real Asana refuses non-public targets; the sandbox accepts the local runtime's.
 */
const createBody = z.object({ data: z.object({ resource: z.string().min(1), target: z.url(), filters: z.array(z.unknown()).optional() }) });

export const asanaSignature = (body: string, secret: string): string => createHmac('sha256', secret).update(body).digest('hex');

export function createAsanaPush(store: SandboxStore, data: AsanaData, deliverer: Deliverer) {
  const webhookJson = (webhook: AsanaWebhook) => {
    const project = data.state.projects[webhook.resource];
    return {
      gid: webhook.gid,
      resource_type: 'webhook',
      active: webhook.deletedAt === undefined,
      resource: { gid: webhook.resource, resource_type: project ? 'project' : 'task', name: project?.name ?? data.state.tasks[webhook.resource]?.name ?? '' },
      target: webhook.target,
      created_at: new Date(webhook.createdAt).toISOString(),
      last_success_at: webhook.deliveries.findLast((delivery) => delivery.status !== null && delivery.status < 300)?.at ?? null,
    };
  };

  async function create(request: SandboxRequest, grant: GrantRecord): Promise<SandboxResponse> {
    const body = parseBody(request);
    const parsed = createBody.safeParse(body.kind === 'json' ? body.value : undefined);
    if (!parsed.success) return asanaError(400, 'data: resource and target are required');
    const { resource, target } = parsed.data.data;
    if (!data.state.projects[resource] && !data.state.tasks[resource]) return asanaError(404, `resource: Not a recognized ID: ${resource}`);
    const secret = randomHex(32);
    recordIssuedSecret(secret);
    const handshake = await deliverer.send(target, { headers: { 'x-hook-secret': secret, 'content-type': 'application/json' }, body: '' });
    if ((handshake.status !== 200 && handshake.status !== 204) || handshake.headers['x-hook-secret'] !== secret) {
      return asanaError(400, 'Could not complete activation handshake with target URL. Please ensure that the receiving server is accepting connections and supports SSL.');
    }
    const webhook: AsanaWebhook = { gid: data.newGid(), resource, target, secret, account: grant.account, createdAt: store.now(), deliveries: [] };
    data.state.webhooks[webhook.gid] = webhook;
    store.touch();
    return jsonResponse(201, { data: webhookJson(webhook) });
  }

  function live(gid: string): AsanaWebhook | undefined {
    const webhook = data.state.webhooks[gid];
    return webhook && webhook.deletedAt === undefined ? webhook : undefined;
  }

  /** `path` is after `/api/1.0`; undefined when it is not a webhooks route. */
  async function handle(request: SandboxRequest, path: string, grant: () => GrantRecord | SandboxResponse): Promise<SandboxResponse | undefined> {
    const one = /^\/webhooks\/(\d+)$/.exec(path);
    if (path !== '/webhooks' && !one) return undefined;
    const auth = grant();
    if ('status' in auth) return auth;
    if (path === '/webhooks' && request.method === 'POST') return create(request, auth);
    if (path === '/webhooks' && request.method === 'GET') {
      const mine = Object.values(data.state.webhooks).filter((webhook) => webhook.deletedAt === undefined && webhook.account === auth.account);
      return jsonResponse(200, { data: mine.map(webhookJson), next_page: null });
    }
    const webhook = one?.[1] ? live(one[1]) : undefined;
    if (!webhook || webhook.account !== auth.account) return asanaError(404, `webhook: Unknown object: ${one?.[1] ?? ''}`);
    if (request.method === 'GET') return jsonResponse(200, { data: webhookJson(webhook) });
    if (request.method === 'DELETE') {
      webhook.deletedAt = store.now();
      store.touch();
      return jsonResponse(200, { data: {} });
    }
    return asanaError(405, 'Method not allowed');
  }

  function deliver(webhook: AsanaWebhook, events: AsanaEvent[]): Promise<number | null> {
    return deliverer.enqueue(`asana:${webhook.gid}`, async () => {
      const body = JSON.stringify({
        events: events.map((event) => ({
          user: { gid: '1200000000000900', resource_type: 'user' },
          created_at: new Date(event.at).toISOString(),
          action: event.action,
          resource: { gid: event.gid, resource_type: event.type, ...(event.type === 'task' ? { resource_subtype: 'default_task' } : {}) },
          parent: event.type === 'task' ? { gid: event.project, resource_type: 'project' } : null,
        })),
      });
      const outcome = await deliverer.send(webhook.target, { headers: { 'content-type': 'application/json', 'x-hook-signature': asanaSignature(body, webhook.secret) }, body });
      webhook.deliveries.push({ at: new Date(store.now()).toISOString(), status: outcome.status, events: events.length });
      if (webhook.deliveries.length > 100) webhook.deliveries.splice(0, webhook.deliveries.length - 100);
      store.touch();
      return outcome.status;
    });
  }

  /** Sends `events` to every live webhook on their project (or the resource itself). */
  function notify(events: AsanaEvent[]): void {
    for (const webhook of Object.values(data.state.webhooks)) {
      if (webhook.deletedAt !== undefined) continue;
      const matching = events.filter((event) => event.project === webhook.resource || event.gid === webhook.resource);
      if (matching.length > 0) void deliver(webhook, matching);
    }
  }

  return {
    handle,
    notify,
    /** An empty `events` array to one webhook (or every live one); resolves to the statuses the app answered. */
    heartbeat: async (gid?: string) =>
      Promise.all(
        Object.values(data.state.webhooks)
          .filter((webhook) => webhook.deletedAt === undefined && (gid === undefined || webhook.gid === gid))
          .map((webhook) => deliver(webhook, [])),
      ),
    /** Live webhooks as the control API shows them (never their secret). */
    list: () => Object.values(data.state.webhooks).filter((webhook) => webhook.deletedAt === undefined).map((webhook) => ({ ...webhookJson(webhook), account: webhook.account, deliveries: webhook.deliveries })),
  };
}
