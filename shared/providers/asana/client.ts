import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import type { ProviderResponse } from '../../oauth/http';
import { apiCall, parseProviderResponse, providerHost, type ApiBody, type RetryOptions } from '../api-call';
import type { ProviderProbe } from '../types';
import { asanaOAuth } from './oauth';

/**
 * Asana REST calls (`/api/1.0`, data wrapped in `{data}`). Errors come as
 * `{errors:[{message, help}]}` without a code, so the code is the status's
 * meaning: 401 `not_authorized` (refresh once), 403 `forbidden` (a missing
 * scope), 404 `not_found`, 412 `sync_token_invalid` (only `/events`), other
 * 4xx `invalid_request`; 429 is `rate_limited` with its Retry-After.
 */
const PROVIDER = 'asana';
const CODES: Readonly<Record<number, string>> = { 401: 'not_authorized', 403: 'forbidden', 404: 'not_found', 412: 'sync_token_invalid' };

export function asanaErrorFrom(response: Pick<ProviderResponse, 'status'>): ProviderError {
  const code = CODES[response.status] ?? (response.status >= 400 && response.status < 500 ? 'invalid_request' : `http_${response.status}`);
  return new ProviderError(PROVIDER, code, response.status, response.status === 401 ? 'unauthorized' : 'rejected');
}

const nextPage = z.object({ offset: z.string().min(1) }).nullable().optional();
const ref = z.object({ gid: z.string().min(1) });
export const asanaTaskSchema = z.looseObject({
  gid: z.string().min(1),
  name: z.string(),
  notes: z.string().optional(),
  completed: z.boolean().optional(),
  assignee: ref.nullable().optional(),
  due_on: z.string().nullable().optional(),
  modified_at: z.string().optional(),
  permalink_url: z.string().optional(),
  projects: z.array(ref).optional(),
});
export type AsanaTask = z.infer<typeof asanaTaskSchema>;
/** The project fields the sync and the webhook check read. */
const PROJECT_FIELDS = 'name,archived,modified_at';
const projectSchema = z.looseObject({ gid: z.string().min(1), name: z.string(), archived: z.boolean().optional(), modified_at: z.string().optional() });
const meSchema = z.object({ gid: z.string().min(1), name: z.string().optional(), email: z.string().optional(), workspaces: z.array(ref).default([]) });
const eventSchema = z.looseObject({ action: z.string(), resource: z.object({ gid: z.string(), resource_type: z.string() }) });
const webhookSchema = z.looseObject({ gid: z.string().min(1), active: z.boolean().optional() });

export interface AsanaPage<T> {
  items: T[];
  /** The opaque offset of the next page; undefined on the last. */
  next: string | undefined;
}

export interface AsanaEvents {
  events: Array<z.infer<typeof eventSchema>>;
  sync: string;
  hasMore: boolean;
}

export interface AsanaTaskInput {
  name: string;
  notes?: string;
  /** A user gid, an email, or `me`. */
  assignee?: string;
  /** `YYYY-MM-DD`. */
  dueOn?: string;
  /** Project gids; the task is created in the first one's workspace. */
  projects?: string[];
  /** Needed when no project is named. */
  workspace?: string;
}

export interface AsanaClient {
  me(accessToken: string): Promise<z.infer<typeof meSchema>>;
  projects(accessToken: string, workspace: string, offset?: string): Promise<AsanaPage<z.infer<typeof projectSchema>>>;
  /** Undefined when Asana no longer has it (deleted). */
  project(accessToken: string, gid: string): Promise<z.infer<typeof projectSchema> | undefined>;
  tasks(accessToken: string, project: string, offset?: string): Promise<AsanaPage<AsanaTask>>;
  task(accessToken: string, gid: string): Promise<AsanaTask | undefined>;
  /** `/events` on a resource: changes since `sync`, or a ProviderError `sync_token_invalid` carrying a fresh token (see `freshSyncToken`). */
  events(accessToken: string, resource: string, sync: string | undefined): Promise<AsanaEvents>;
  createTask(accessToken: string, task: AsanaTaskInput): Promise<AsanaTask>;
  /** Asana performs the X-Hook-Secret handshake with `target` before this answers. */
  createWebhook(accessToken: string, resource: string, target: string): Promise<{ gid: string }>;
  /** Undefined when Asana no longer has it (deleted, or dropped after failing deliveries). */
  webhook(accessToken: string, gid: string): Promise<{ gid: string; active?: boolean } | undefined>;
  deleteWebhook(accessToken: string, gid: string): Promise<void>;
}

/** A 412 from `/events` carries the sync token to use after a full resync. */
export class AsanaSyncTokenError extends ProviderError {
  constructor(readonly freshSyncToken: string | undefined) {
    super(PROVIDER, 'sync_token_invalid', 412, 'rejected');
  }
}

export function createAsanaClient(retry: RetryOptions = {}): AsanaClient {
  const call = <T>(accessToken: string, method: 'GET' | 'POST' | 'DELETE', path: string, read: (response: ProviderResponse) => T, body?: ApiBody) =>
    apiCall(
      {
        providerId: PROVIDER,
        method,
        url: `${providerHost(PROVIDER, asanaOAuth, 'app')}/api/1.0${path}`,
        accessToken,
        read,
        ...(body ? { body } : {}),
        ...(method === 'POST' ? { acts: true } : {}),
      },
      retry,
    );
  const data =
    <S extends z.ZodType>(schema: S, what: string) =>
    (response: ProviderResponse): z.infer<S> => {
      if (response.status < 200 || response.status >= 300) throw asanaErrorFrom(response);
      const wrapped = parseProviderResponse(PROVIDER, z.object({ data: z.unknown() }), response.json, what);
      return parseProviderResponse(PROVIDER, schema, wrapped.data, what);
    };
  const page =
    <S extends z.ZodType>(schema: S, what: string) =>
    (response: ProviderResponse): AsanaPage<z.infer<S>> => {
      if (response.status !== 200) throw asanaErrorFrom(response);
      const parsed = parseProviderResponse(PROVIDER, z.object({ data: z.array(schema), next_page: nextPage }), response.json, what);
      return { items: parsed.data, next: parsed.next_page?.offset };
    };
  const query = (params: Record<string, string | undefined>) =>
    `?${new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined))}`;

  return {
    me: (accessToken) => call(accessToken, 'GET', '/users/me', data(meSchema, 'user')),
    projects: (accessToken, workspace, offset) =>
      call(accessToken, 'GET', `/projects${query({ workspace, limit: '100', offset, opt_fields: PROJECT_FIELDS })}`, page(projectSchema, 'projects page')),
    project: (accessToken, gid) =>
      call(accessToken, 'GET', `/projects/${encodeURIComponent(gid)}${query({ opt_fields: PROJECT_FIELDS })}`, (response) =>
        response.status === 404 ? undefined : data(projectSchema, 'project')(response),
      ),
    tasks: (accessToken, project, offset) =>
      call(
        accessToken,
        'GET',
        `/tasks${query({ project, limit: '100', offset, opt_fields: 'name,notes,completed,assignee,due_on,modified_at,permalink_url,projects' })}`,
        page(asanaTaskSchema, 'tasks page'),
      ),
    task: (accessToken, gid) =>
      call(accessToken, 'GET', `/tasks/${encodeURIComponent(gid)}`, (response) => (response.status === 404 ? undefined : data(asanaTaskSchema, 'task')(response))),
    events: (accessToken, resource, sync) =>
      call(accessToken, 'GET', `/events${query({ resource, sync })}`, (response) => {
        if (response.status === 412) {
          const fresh = z.object({ sync: z.string().min(1) }).safeParse(response.json);
          throw new AsanaSyncTokenError(fresh.success ? fresh.data.sync : undefined);
        }
        if (response.status !== 200) throw asanaErrorFrom(response);
        const parsed = parseProviderResponse(PROVIDER, z.object({ data: z.array(eventSchema), sync: z.string().min(1), has_more: z.boolean().default(false) }), response.json, 'events');
        return { events: parsed.data, sync: parsed.sync, hasMore: parsed.has_more };
      }),
    createTask: (accessToken, task) =>
      call(
        accessToken,
        'POST',
        '/tasks',
        data(asanaTaskSchema, 'task'),
        {
          json: {
            data: {
              name: task.name,
              ...(task.notes !== undefined ? { notes: task.notes } : {}),
              ...(task.assignee !== undefined ? { assignee: task.assignee } : {}),
              ...(task.dueOn !== undefined ? { due_on: task.dueOn } : {}),
              ...(task.projects !== undefined ? { projects: task.projects } : {}),
              ...(task.workspace !== undefined ? { workspace: task.workspace } : {}),
            },
          },
        },
      ),
    createWebhook: (accessToken, resource, target) => call(accessToken, 'POST', '/webhooks', data(webhookSchema, 'webhook'), { json: { data: { resource, target } } }),
    webhook: (accessToken, gid) =>
      call(accessToken, 'GET', `/webhooks/${encodeURIComponent(gid)}`, (response) => (response.status === 404 ? undefined : data(webhookSchema, 'webhook')(response))),
    deleteWebhook: async (accessToken, gid) => {
      await call(accessToken, 'DELETE', `/webhooks/${encodeURIComponent(gid)}`, (response) => {
        // Already gone is what a delete wants.
        if (response.status !== 404) data(z.unknown(), 'webhook deletion')(response);
      });
    },
  };
}

export const asanaClient: AsanaClient = createAsanaClient();

/** The gids of the user's projects that are not archived, across their workspaces (at most `max`). */
export async function activeProjectGids(accessToken: string, max = Number.POSITIVE_INFINITY): Promise<string[]> {
  const me = await asanaClient.me(accessToken);
  const gids: string[] = [];
  for (const workspace of me.workspaces) {
    let offset: string | undefined;
    do {
      const page = await asanaClient.projects(accessToken, workspace.gid, offset);
      gids.push(...page.items.filter((project) => !project.archived).map((project) => project.gid));
      offset = page.next;
    } while (offset && gids.length < max);
  }
  return gids.slice(0, max);
}

/** Health check: `/users/me` with the stored token. */
export const asanaProbe: ProviderProbe = {
  credentialKind: 'oauth',
  async run(accessToken) {
    await asanaClient.me(accessToken);
  },
};
