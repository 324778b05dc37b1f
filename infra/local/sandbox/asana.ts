import * as z from 'zod';
import { createAsanaApi, asanaError } from './asana-api';
import { AsanaData, type AsanaEvent } from './asana-data';
import { createAsanaOAuth } from './asana-oauth';
import { createAsanaPush } from './asana-push';
import { controlInput, controlRoute } from './fake-control';
import { jsonResponse, paramsRecord, type SandboxRequest, type SandboxResponse } from './http';
import { retryAfterHeader, type ProviderModule } from './provider';
import type { Deliverer } from './push';
import type { SandboxStore } from './state';

/**
 * The Asana fake, served under `/asana/app` (app.asana.com): OAuth
 * (asana-oauth.ts), the REST API with `/events` (asana-api.ts, data in
 * asana-data.ts) and webhooks with their handshake (asana-push.ts).
 *
 * Control routes (`/_control/asana/…`): `POST data` changes tasks and
 * projects (`{op: add|update|delete, type: task|project, gid?, name?, notes?,
 * completed?, archived? (projects), project?}`: events are recorded and signed
 * deliveries go to the webhooks on that project), `GET data` lists them, `POST invalidate-sync`
 * makes every sync token too old (412), `GET webhooks` lists live webhooks
 * (no secrets), `POST heartbeat {gid?}` sends empty `events` deliveries.
 */
const dataOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), type: z.enum(['task', 'project']), name: z.string().min(1), notes: z.string().optional(), project: z.string().optional() }).strict(),
  z
    .object({
      op: z.literal('update'),
      type: z.enum(['task', 'project']),
      gid: z.string(),
      name: z.string().min(1).optional(),
      notes: z.string().optional(),
      completed: z.boolean().optional(),
      archived: z.boolean().optional(),
    })
    .strict()
    .refine((op) => op.archived === undefined || op.type === 'project', 'only projects are archived'),
  z.object({ op: z.literal('delete'), type: z.enum(['task', 'project']), gid: z.string() }).strict(),
]);
type DataOp = z.infer<typeof dataOp>;

export function createAsana(store: SandboxStore, deliverer: Deliverer): ProviderModule {
  const data = new AsanaData(store);
  const oauth = createAsanaOAuth(store);
  const api = createAsanaApi(store, data);
  const push = createAsanaPush(store, data, deliverer);

  function change(op: DataOp): { gid: string; events: number } {
    const state = data.state;
    const now = store.now();
    let events: AsanaEvent[];
    let gid: string;
    if (op.op === 'add') {
      gid = data.newGid();
      if (op.type === 'project') {
        state.projects[gid] = { gid, name: op.name, archived: false, modifiedAt: now };
        events = data.record('added', 'project', gid, [gid]);
      } else {
        if (op.project === undefined || !state.projects[op.project]) throw new RangeError(`no project ${op.project ?? '(none)'}`);
        state.tasks[gid] = { gid, name: op.name, notes: op.notes ?? '', assignee: null, dueOn: null, completed: false, projects: [op.project], createdAt: now, modifiedAt: now };
        events = data.record('added', 'task', gid, [op.project]);
      }
    } else {
      gid = op.gid;
      const target = op.type === 'task' ? state.tasks[gid] : state.projects[gid];
      if (!target || ('deleted' in target && target.deleted)) throw new RangeError(`no ${op.type} ${gid}`);
      const projects = op.type === 'task' ? (state.tasks[gid]?.projects ?? []) : [gid];
      if (op.op === 'delete') {
        if (op.type === 'task') Object.assign(target, { deleted: true, modifiedAt: now });
        else delete state.projects[gid];
        events = data.record('deleted', op.type, gid, projects);
      } else {
        Object.assign(target, {
          ...(op.name !== undefined ? { name: op.name } : {}),
          ...(op.notes !== undefined ? { notes: op.notes } : {}),
          ...(op.completed !== undefined ? { completed: op.completed } : {}),
          ...(op.archived !== undefined ? { archived: op.archived } : {}),
          modifiedAt: now,
        });
        events = data.record('changed', op.type, gid, projects);
      }
    }
    push.notify(events);
    return { gid, events: events.length };
  }

  async function control(request: SandboxRequest): Promise<SandboxResponse> {
    const { route, input } = controlRoute(request);
    switch (route) {
      case 'POST /data': {
        const op = controlInput(dataOp, input);
        if ('status' in op) return op;
        try {
          return jsonResponse(200, change(op.value));
        } catch (error) {
          return jsonResponse(404, { error: error instanceof Error ? error.message : 'not found' });
        }
      }
      case 'GET /data': {
        const type = paramsRecord(request.query).type ?? 'task';
        const items = type === 'project' ? Object.values(data.state.projects) : Object.values(data.state.tasks).filter((task) => !task.deleted).map(api.taskJson);
        return jsonResponse(200, { items });
      }
      case 'POST /invalidate-sync':
        data.invalidateSyncTokens();
        return jsonResponse(200, { invalidated: true });
      case 'GET /webhooks':
        return jsonResponse(200, { webhooks: push.list() });
      case 'POST /heartbeat': {
        const target = controlInput(z.object({ gid: z.string().optional() }), input);
        if ('status' in target) return target;
        return jsonResponse(200, { statuses: await push.heartbeat(target.value.gid) });
      }
      default:
        return jsonResponse(404, { error: `No control endpoint ${route} under /_control/asana` });
    }
  }

  return {
    id: 'asana',
    async handle(request) {
      const path = request.path;
      if (path === '/app/-/oauth_authorize') return oauth.authorize(request);
      if (path === '/app/-/oauth_token' && request.method === 'POST') return oauth.token(request);
      if (path === '/app/-/oauth_revoke' && request.method === 'POST') return oauth.revoke(request);
      if (path === '/app/-/token_info' && request.method === 'POST') return oauth.tokenInfo(request);
      const apiPath = /^\/app\/api\/1\.0(\/.*)$/.exec(path)?.[1];
      if (apiPath) {
        const webhooks = await push.handle(request, apiPath, () => {
          const auth = api.authenticate(request, request.method === 'GET' ? undefined : 'webhooks:write');
          return 'status' in auth ? auth : auth.grant;
        });
        if (webhooks) return webhooks;
        const answer = api.handle(request, apiPath);
        if (answer) return answer;
      }
      return asanaError(404, `No matching route for request: ${request.method} ${path}`);
    },
    fault(_request, status, retryAfterSeconds) {
      return status === 429
        ? asanaError(429, 'You have made too many requests recently. Please, be chill.', retryAfterHeader(retryAfterSeconds))
        : asanaError(status, 'Server Error');
    },
    control,
  };
}
