import * as z from 'zod';
import { SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { controlInput, controlRoute } from './fake-control';
import { jsonResponse, type SandboxRequest, type SandboxResponse } from './http';
import { createNotionApi } from './notion-api';
import { NotionData, notionWorkspaceId } from './notion-data';
import { createNotionOAuth, notionError } from './notion-oauth';
import { createNotionPush, type NotionEventType } from './notion-push';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { Deliverer } from './push';
import type { SandboxStore } from './state';

/**
 * The Notion fake, served under `/notion/api` (api.notion.com): OAuth
 * (notion-oauth.ts), search and pages (notion-api.ts, data in
 * notion-data.ts), webhooks with the verification token (notion-push.ts).
 * Every API and token call needs `Notion-Version` (400 `missing_version`).
 *
 * Control routes (`/_control/notion/…`): `POST data` (`{op: add|update|trash,
 * object?, id?, title?, parentId?, account?}`: changes a page or database and
 * sends the event), `GET data?account=`, `POST webhook/subscribe {url?}`
 * (posts the verification token), `POST webhook/verify {token}` (the owner
 * pastes a token into Notion's "Verify subscription" form: only the one
 * Notion sent verifies it), `GET webhook`, `POST config
 * {refreshTokens: rotating|none}`, `POST invalidate-cursors`.
 */
export const NOTION_VERSIONS = ['2022-06-28', '2025-09-03'] as const;

const dataOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), object: z.enum(['page', 'database']).default('page'), title: z.string().min(1), parentId: z.string().optional(), account: z.string().optional() }).strict(),
  z.object({ op: z.literal('update'), id: z.string(), title: z.string().min(1) }).strict(),
  z.object({ op: z.literal('trash'), id: z.string() }).strict(),
]);

export function createNotion(store: SandboxStore, deliverer: Deliverer): ProviderModule {
  const data = new NotionData(store);
  const oauth = createNotionOAuth(store, data);
  const api = createNotionApi(store, data);
  const push = createNotionPush(store, data, deliverer);

  async function control(request: SandboxRequest): Promise<SandboxResponse> {
    const { route, input } = controlRoute(request);
    switch (route) {
      case 'POST /data': {
        const parsed = controlInput(dataOp, input);
        if ('status' in parsed) return parsed;
        const op = parsed.value;
        if (op.op === 'add') {
          const account = op.account ?? SANDBOX_DEFAULT_ACCOUNTS.notion;
          const workspace = notionWorkspaceId(account);
          data.objectsOf(workspace);
          const created = data.add(workspace, op.object, op.title, op.parentId ?? null);
          const status = await push.notify(`${created.object}.created` as NotionEventType, created, account);
          return jsonResponse(200, { id: created.id, delivered: status ?? null });
        }
        const target = data.state.objects[op.id];
        if (!target || target.inTrash) return jsonResponse(404, { error: `no page or database ${op.id}` });
        if (op.op === 'update') target.title = op.title;
        else target.inTrash = true;
        target.lastEditedTime = store.now();
        store.touch();
        const type: NotionEventType = op.op === 'trash' ? (target.object === 'page' ? 'page.deleted' : 'database.deleted') : 'page.properties_updated';
        const status = await push.notify(type, target, SANDBOX_DEFAULT_ACCOUNTS.notion);
        return jsonResponse(200, { id: target.id, delivered: status ?? null });
      }
      case 'GET /data': {
        const account = new URLSearchParams(request.query).get('account') ?? SANDBOX_DEFAULT_ACCOUNTS.notion;
        return jsonResponse(200, { items: data.objectsOf(notionWorkspaceId(account)).map(api.objectJson) });
      }
      case 'POST /webhook/subscribe': {
        const target = controlInput(z.object({ url: z.url().optional() }), input);
        if ('status' in target) return target;
        try {
          return jsonResponse(200, await push.subscribe(target.value.url));
        } catch (error) {
          return jsonResponse(409, { error: error instanceof Error ? error.message : 'no webhook URL' });
        }
      }
      case 'POST /webhook/verify': {
        const pasted = controlInput(z.object({ token: z.string().min(1) }), input);
        if ('status' in pasted) return pasted;
        return jsonResponse(200, { verified: push.verify(pasted.value.token) });
      }
      case 'GET /webhook':
        return jsonResponse(200, { subscription: push.status() });
      case 'POST /config': {
        const config = controlInput(z.object({ refreshTokens: z.enum(['rotating', 'none']) }).strict(), input);
        if ('status' in config) return config;
        data.state.refreshTokens = config.value.refreshTokens;
        store.touch();
        return jsonResponse(200, config.value);
      }
      case 'POST /invalidate-cursors':
        data.state.cursorEpoch += 1;
        store.touch();
        return jsonResponse(200, { invalidated: true });
      default:
        return jsonResponse(404, { error: `No control endpoint ${route} under /_control/notion` });
    }
  }

  async function handle(request: SandboxRequest): Promise<SandboxResponse> {
    const path = request.path.replace(/^\/api/, '');
    if (path === '/v1/oauth/authorize') return oauth.authorize(request);
    const version = request.headers['notion-version'];
    if (version === undefined) return notionError(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.');
    if (!(NOTION_VERSIONS as readonly string[]).includes(version)) return notionError(400, 'validation_error', `Notion-Version header failed validation: ${version} is not a supported version.`);
    const { method } = request;
    if (method === 'POST' && path === '/v1/oauth/token') return oauth.token(request);
    if (method === 'POST' && path === '/v1/oauth/revoke') return oauth.revoke(request);
    if (method === 'POST' && path === '/v1/oauth/introspect') return oauth.introspect(request);
    const auth = api.authenticate(request);
    if ('status' in auth) return auth;
    if (method === 'POST' && path === '/v1/search') return api.search(request, auth.grant);
    if (method === 'POST' && path === '/v1/pages') {
      const { response, created } = api.createPage(request, auth.grant);
      if (created) void push.notify('page.created', created, auth.grant.account);
      return response;
    }
    const page = /^\/v1\/pages\/([0-9a-f-]{32,36})$/.exec(path)?.[1];
    if (method === 'GET' && page) {
      const found = Object.values(data.state.objects).find((object) => object.id.replace(/-/g, '') === page.replace(/-/g, '') && object.object === 'page' && object.workspaceId === notionWorkspaceId(auth.grant.account));
      return found ? jsonResponse(200, api.objectJson(found)) : notionError(404, 'object_not_found', `Could not find page with ID: ${page}.`);
    }
    if (method === 'GET' && path === '/v1/users/me') {
      return jsonResponse(200, { object: 'user', id: notionWorkspaceId(auth.grant.account), type: 'bot', name: 'Sandbox HR integration', bot: { owner: { type: 'workspace', workspace: true }, workspace_name: 'Sandbox' } });
    }
    return notionError(400, 'invalid_request_url', 'Invalid request URL.');
  }

  return {
    id: 'notion',
    handle,
    fault(_request, status, retryAfterSeconds) {
      return status === 429
        ? notionError(429, 'rate_limited', 'You have been rate limited. Please try again in a few minutes.', retryAfterHeader(retryAfterSeconds))
        : notionError(status, status === 503 ? 'service_unavailable' : 'internal_server_error', 'Unexpected error occurred.');
    },
    control,
    connectWebhook(url) {
      data.state.webhookUrl = url;
      store.touch();
    },
  };
}
