import * as z from 'zod';
import { CursorResetError, type ProviderSync, type PullPage, type RecordChange } from '../../sync/types';
import { activeProjectGids, asanaClient, AsanaSyncTokenError, type AsanaTask } from './client';
import { ASANA_CREDENTIAL } from './oauth';

/**
 * Asana sync: projects and tasks of the user's workspaces.
 *
 * Projects are listed in full every pass (there are few; a listing needs no
 * cursor to survive). Tasks are incremental through `/events`, one sync token
 * per project: the full pass first takes each project's token (Asana answers
 * the first call with 412 and a fresh token), then lists the project's tasks
 * page by page; later passes ask each project for its events since its token
 * and fetch the tasks they name. `deleted` events, and tasks that are gone
 * when fetched, become tombstones. A 412 on a stored token (too old, or
 * invalidated) starts a full resync, and so does a project that appeared
 * since (it has no token yet).
 *
 * Why `/events` and not `modified_since`: listing tasks modified since a time
 * never reports a deleted task, so deletions would need a full listing every
 * time; the workspace-wide task search that filters by modification is a
 * paid-plan API. `/events` reports deletions and costs one call per project
 * when nothing changed. Delivery of webhooks is at-most-once, so this
 * scheduled sync is the safety net for missed events.
 */
const fullCursor = z.object({
  phase: z.literal('full'),
  projects: z.array(z.string()),
  index: z.number().int().min(0),
  offset: z.string().optional(),
  tokens: z.record(z.string(), z.string()),
});
const eventsCursor = z.object({ phase: z.literal('events'), index: z.number().int().min(0), tokens: z.record(z.string(), z.string()) });
const tasksCursor = z.discriminatedUnion('phase', [fullCursor, eventsCursor]);
type TasksCursor = z.infer<typeof tasksCursor>;
const projectsCursor = z.object({ workspaces: z.array(z.string()), index: z.number().int().min(0), offset: z.string().optional() });

const encode = (cursor: unknown) => JSON.stringify(cursor);
function decode<S extends z.ZodType>(schema: S, cursor: string | undefined): z.infer<S> | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(cursor));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function taskRecord(task: AsanaTask): Record<string, unknown> {
  return {
    name: task.name,
    completed: task.completed ?? false,
    assignee: task.assignee?.gid ?? null,
    dueOn: task.due_on ?? null,
    modifiedAt: task.modified_at ?? null,
    url: task.permalink_url ?? null,
    projects: (task.projects ?? []).map((project) => project.gid),
  };
}

/** The sync token for "from now on" of one project: Asana's 412 answer to a call without one carries it. */
async function freshToken(accessToken: string, project: string): Promise<string> {
  try {
    return (await asanaClient.events(accessToken, project, undefined)).sync;
  } catch (error) {
    if (error instanceof AsanaSyncTokenError && error.freshSyncToken) return error.freshSyncToken;
    throw error;
  }
}

async function pullFull(accessToken: string, cursor: z.infer<typeof fullCursor> | undefined): Promise<PullPage> {
  const state = cursor ?? { phase: 'full' as const, projects: await activeProjectGids(accessToken), index: 0, tokens: {} };
  const project = state.projects[state.index];
  if (project === undefined) return { changes: [], cursor: encode({ phase: 'events', index: 0, tokens: state.tokens }), complete: true };
  // The token is taken before the listing: a change made during it shows up again as an event, never lost.
  const tokens = state.tokens[project] ? state.tokens : { ...state.tokens, [project]: await freshToken(accessToken, project) };
  const page = await asanaClient.tasks(accessToken, project, state.offset);
  const changes: RecordChange[] = page.items.map((task) => ({ externalId: task.gid, op: 'upsert', data: taskRecord(task) }));
  const next: TasksCursor = page.next
    ? { ...state, tokens, offset: page.next }
    : { phase: 'full', projects: state.projects, index: state.index + 1, tokens };
  if (!page.next && next.index >= state.projects.length) return { changes, cursor: encode({ phase: 'events', index: 0, tokens }), complete: true };
  return { changes, cursor: encode(next), complete: false };
}

async function pullEvents(accessToken: string, cursor: z.infer<typeof eventsCursor>): Promise<PullPage> {
  const projects = Object.keys(cursor.tokens).sort();
  if (cursor.index === 0 && (await activeProjectGids(accessToken)).some((project) => !(project in cursor.tokens))) throw new CursorResetError('tasks');
  const project = projects[cursor.index];
  if (project === undefined) return { changes: [], cursor: encode({ ...cursor, index: 0 }), complete: true };
  let answer;
  try {
    answer = await asanaClient.events(accessToken, project, cursor.tokens[project]);
  } catch (error) {
    if (error instanceof AsanaSyncTokenError) throw new CursorResetError('tasks');
    throw error;
  }
  const touched = new Map<string, string>();
  for (const event of answer.events) if (event.resource.resource_type === 'task') touched.set(event.resource.gid, event.action);
  const changes: RecordChange[] = [];
  for (const [gid, action] of touched) {
    const task = action === 'deleted' ? undefined : await asanaClient.task(accessToken, gid);
    changes.push(task ? { externalId: gid, op: 'upsert', data: taskRecord(task) } : { externalId: gid, op: 'delete' });
  }
  const tokens = { ...cursor.tokens, [project]: answer.sync };
  const index = answer.hasMore ? cursor.index : cursor.index + 1;
  const complete = index >= projects.length;
  return { changes, cursor: encode({ phase: 'events', index: complete ? 0 : index, tokens }), complete };
}

export const asanaSync: ProviderSync = {
  credentialKind: ASANA_CREDENTIAL,
  resources: {
    projects: {
      keepCursorAfterPass: false,
      async pull({ accessToken, cursor }) {
        const state = decode(projectsCursor, cursor) ?? { workspaces: (await asanaClient.me(accessToken)).workspaces.map((workspace) => workspace.gid), index: 0 };
        const workspace = state.workspaces[state.index];
        if (workspace === undefined) return { changes: [], cursor: undefined, complete: true };
        const page = await asanaClient.projects(accessToken, workspace, state.offset);
        const changes: RecordChange[] = page.items.map((project) => ({
          externalId: project.gid,
          op: 'upsert',
          data: { name: project.name, archived: project.archived ?? false, modifiedAt: project.modified_at ?? null, workspace },
        }));
        const next = page.next ? { ...state, offset: page.next } : { workspaces: state.workspaces, index: state.index + 1 };
        const complete = !page.next && next.index >= state.workspaces.length;
        return { changes, cursor: complete ? undefined : encode(next), complete };
      },
    },
    tasks: {
      keepCursorAfterPass: true,
      async pull({ accessToken, cursor }) {
        const state = decode(tasksCursor, cursor);
        return state?.phase === 'events' ? pullEvents(accessToken, state) : pullFull(accessToken, state);
      },
    },
  },
};
