import * as z from 'zod';
import { ASANA_WORKSPACE, type AsanaData, type AsanaProject, type AsanaTask } from './asana-data';
import { asanaUserGid, asanaUserName } from './asana-oauth';
import { bearerToken, jsonResponse, paramsRecord, parseBody, type SandboxRequest, type SandboxResponse } from './http';
import type { GrantRecord, SandboxStore } from './state';

/**
 * Asana's REST API as the app uses it (`/api/1.0`): the user and their
 * workspace, projects and tasks with offset pagination (`limit` 1–100,
 * `next_page` null on the last page), one project (404 once deleted), one
 * task, task creation, and `/events`
 * with sync tokens: the first call (no token) and a call with a token too old
 * answer 412 with a fresh `sync`; then each call returns the events since the
 * token, at most 100, with `has_more`. Errors are `{errors:[{message, help}]}`.
 */
export const ASANA_PAGE_LIMITS = { default: 50, max: 100 } as const;
const EVENTS_PAGE = 100;
const HELP = 'For more information on API status codes and how to handle them, read the docs on errors: https://developers.asana.com/docs/errors';

export const asanaError = (status: number, message: string, headers: Record<string, string> = {}): SandboxResponse =>
  jsonResponse(status, { errors: [{ message, help: HELP }] }, headers);

const iso = (ms: number) => new Date(ms).toISOString();

export type AsanaAuth = { grant: GrantRecord } | SandboxResponse;

export function createAsanaApi(store: SandboxStore, data: AsanaData) {
  function authenticate(request: SandboxRequest, scope?: string): AsanaAuth {
    const raw = bearerToken(request.headers);
    const found = raw ? store.lookupToken('asana', raw) : { status: 'unknown' as const };
    if (found.status === 'unknown' || found.token.kind !== 'access' || found.status === 'revoked') return asanaError(401, 'Not Authorized');
    if (found.status === 'expired') return asanaError(401, 'The bearer token has expired. If you have a refresh token, please use it to get a new bearer token.');
    if (scope && !found.grant.scopes.includes(scope) && !found.grant.scopes.includes('default')) {
      return asanaError(403, `Forbidden: the token does not have the ${scope} scope.`);
    }
    return { grant: found.grant };
  }

  const user = (grant: GrantRecord) => ({ gid: asanaUserGid(grant.account), resource_type: 'user', name: asanaUserName(grant.account) });
  const workspace = { gid: ASANA_WORKSPACE.gid, resource_type: 'workspace', name: ASANA_WORKSPACE.name };
  const projectJson = (project: AsanaProject) => ({ gid: project.gid, resource_type: 'project', name: project.name, archived: project.archived, modified_at: iso(project.modifiedAt) });

  function taskJson(task: AsanaTask): Record<string, unknown> {
    const projects = data.state.projects;
    return {
      gid: task.gid,
      resource_type: 'task',
      name: task.name,
      notes: task.notes,
      completed: task.completed,
      assignee: task.assignee ? { gid: task.assignee, resource_type: 'user' } : null,
      due_on: task.dueOn,
      created_at: iso(task.createdAt),
      modified_at: iso(task.modifiedAt),
      projects: task.projects.map((gid) => ({ gid, resource_type: 'project', name: projects[gid]?.name ?? '' })),
      workspace,
      permalink_url: `https://app.asana.com/0/${task.projects[0] ?? '0'}/${task.gid}`,
    };
  }

  /** One page of `items` from the opaque `offset`; a malformed offset or limit is a 400. */
  function page<T>(request: SandboxRequest, path: string, items: T[], json: (item: T) => unknown): SandboxResponse {
    const query = paramsRecord(request.query);
    const limit = query.limit === undefined ? ASANA_PAGE_LIMITS.default : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > ASANA_PAGE_LIMITS.max) return asanaError(400, `limit: Must be between 1 and ${ASANA_PAGE_LIMITS.max}`);
    let start = 0;
    if (query.offset !== undefined) {
      const decoded = Buffer.from(query.offset, 'base64url').toString('utf8');
      start = /^o:\d+$/.test(decoded) ? Number(decoded.slice(2)) : NaN;
      if (!Number.isInteger(start) || start > items.length) return asanaError(400, 'offset: Your pagination token is invalid.');
    }
    const end = start + limit;
    const next = end < items.length ? Buffer.from(`o:${end}`).toString('base64url') : undefined;
    const nextQuery = new URLSearchParams({ ...query, limit: String(limit), ...(next ? { offset: next } : {}) });
    return jsonResponse(200, {
      data: items.slice(start, end).map(json),
      next_page: next ? { offset: next, path: `${path}?${nextQuery}`, uri: `https://app.asana.com/api/1.0${path}?${nextQuery}` } : null,
    });
  }

  const createTaskBody = z.object({
    data: z.object({
      name: z.string().max(1024).optional(),
      notes: z.string().max(65_536).optional(),
      assignee: z.string().nullable().optional(),
      due_on: z.string().nullable().optional(),
      projects: z.array(z.string()).optional(),
      workspace: z.string().optional(),
    }),
  });

  function createTask(request: SandboxRequest, grant: GrantRecord): SandboxResponse {
    const body = parseBody(request);
    const parsed = createTaskBody.safeParse(body.kind === 'json' ? body.value : undefined);
    if (!parsed.success) return asanaError(400, 'data: Missing input');
    const input = parsed.data.data;
    const projects = input.projects ?? [];
    if (projects.length === 0 && input.workspace === undefined) return asanaError(400, 'workspace: Missing input');
    if (input.workspace !== undefined && input.workspace !== ASANA_WORKSPACE.gid) return asanaError(404, 'workspace: Not a recognized ID: ' + input.workspace);
    for (const project of projects) if (!data.state.projects[project]) return asanaError(404, `projects: Not a recognized ID: ${project}`);
    if (input.due_on != null && !/^\d{4}-\d{2}-\d{2}$/.test(input.due_on)) return asanaError(400, 'due_on: Invalid date value');
    const assignee = input.assignee === 'me' ? asanaUserGid(grant.account) : (input.assignee ?? null);
    if (assignee !== null && !/^\d+$/.test(assignee)) return asanaError(400, 'assignee: Not a valid user');
    const now = store.now();
    const task: AsanaTask = {
      gid: data.newGid(),
      name: input.name ?? '',
      notes: input.notes ?? '',
      assignee,
      dueOn: input.due_on ?? null,
      completed: false,
      projects,
      createdAt: now,
      modifiedAt: now,
    };
    data.state.tasks[task.gid] = task;
    data.record('added', 'task', task.gid, projects);
    return jsonResponse(201, { data: taskJson(task) });
  }

  function events(request: SandboxRequest): SandboxResponse {
    const query = paramsRecord(request.query);
    const resource = query.resource;
    if (!resource) return asanaError(400, 'resource: Missing input');
    if (!data.state.projects[resource] && !data.state.tasks[resource]) return asanaError(404, `resource: Not a recognized ID: ${resource}`);
    const position = query.sync === undefined ? undefined : data.syncPosition(query.sync, resource);
    if (position === undefined) {
      const message =
        'Sync token invalid or too old. If you are attempting to keep resources in sync, you must fetch the full dataset for this query now and use the new sync token for the next sync.';
      return jsonResponse(412, { errors: [{ message }], sync: data.syncToken(resource) });
    }
    const pending = data.state.events.filter((event) => event.seq > position && (event.project === resource || event.gid === resource));
    const batch = pending.slice(0, EVENTS_PAGE);
    const last = batch.at(-1)?.seq ?? data.state.seq;
    const sync = Buffer.from(JSON.stringify({ r: resource, s: pending.length > EVENTS_PAGE ? last : data.state.seq, e: data.state.epoch })).toString('base64url');
    return jsonResponse(200, {
      data: batch.map((event) => ({
        user: null,
        created_at: iso(event.at),
        action: event.action,
        type: event.type,
        resource: { gid: event.gid, resource_type: event.type, ...(event.type === 'task' ? { resource_subtype: 'default_task' } : {}) },
        parent: event.type === 'task' ? { gid: event.project, resource_type: 'project' } : null,
      })),
      sync,
      has_more: pending.length > EVENTS_PAGE,
    });
  }

  /** `path` is after `/api/1.0`. */
  function handle(request: SandboxRequest, path: string): SandboxResponse | undefined {
    const { method } = request;
    const needs = method === 'POST' && path === '/tasks' ? 'tasks:write' : undefined;
    const auth = authenticate(request, needs);
    if ('status' in auth) return auth;
    const { grant } = auth;
    if (method === 'GET' && path === '/users/me') {
      return jsonResponse(200, { data: { ...user(grant), email: grant.account, workspaces: [workspace] } });
    }
    if (method === 'GET' && path === '/workspaces') return jsonResponse(200, { data: [workspace], next_page: null });
    const workspaceProjects = /^\/workspaces\/(\d+)\/projects$/.exec(path)?.[1];
    if (method === 'GET' && (path === '/projects' || workspaceProjects)) {
      const query = { ...paramsRecord(request.query), ...(workspaceProjects ? { workspace: workspaceProjects } : {}) };
      if (query.workspace !== ASANA_WORKSPACE.gid) return asanaError(query.workspace ? 404 : 400, query.workspace ? `workspace: Not a recognized ID: ${query.workspace}` : 'workspace: Missing input');
      const projects = Object.values(data.state.projects).sort((a, b) => a.gid.localeCompare(b.gid));
      return page(request, path, projects, projectJson);
    }
    const oneProject = /^\/projects\/(\d+)$/.exec(path)?.[1];
    if (method === 'GET' && oneProject) {
      const project = data.state.projects[oneProject];
      return project ? jsonResponse(200, { data: { ...projectJson(project), workspace } }) : asanaError(404, `project: Unknown object: ${oneProject}`);
    }
    const projectTasks = /^\/projects\/(\d+)\/tasks$/.exec(path)?.[1];
    if (method === 'GET' && (path === '/tasks' || projectTasks)) {
      const project = projectTasks ?? paramsRecord(request.query).project;
      if (!project) return asanaError(400, 'project: Missing input');
      if (!data.state.projects[project]) return asanaError(404, `project: Not a recognized ID: ${project}`);
      return page(request, path, data.liveTasks(project), taskJson);
    }
    const one = /^\/tasks\/(\d+)$/.exec(path);
    if (method === 'GET' && one?.[1]) {
      const task = data.state.tasks[one[1]];
      if (!task || task.deleted) return asanaError(404, `task: Unknown object: ${one[1]}`);
      return jsonResponse(200, { data: taskJson(task) });
    }
    if (method === 'POST' && path === '/tasks') return createTask(request, grant);
    if (method === 'GET' && path === '/events') return events(request);
    return undefined;
  }

  return { authenticate, handle, taskJson };
}
