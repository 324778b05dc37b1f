import * as z from 'zod';
import { stableDigits } from './ids';
import type { SandboxStore } from './state';

/**
 * The Asana fake's data: one workspace, its projects and tasks, and the
 * event log `/events` serves. Every change appends an event (`added`,
 * `changed`, `removed`, `deleted`) under the project it concerns; a sync
 * token names the last event its holder saw (and the `epoch` it was issued
 * in); a token whose events were pruned, or from an earlier epoch, is
 * refused with 412 (Asana's "sync token too old": a full resync).
 * Deleted tasks stay as tombstones so nothing reuses their gid.
 */
export const ASANA_WORKSPACE = { gid: '1200000000000001', name: 'Sandbox Workspace' } as const;

const projectSchema = z.object({ gid: z.string(), name: z.string(), archived: z.boolean(), modifiedAt: z.number() });
const taskSchema = z.object({
  gid: z.string(),
  name: z.string(),
  notes: z.string(),
  assignee: z.string().nullable(),
  dueOn: z.string().nullable(),
  completed: z.boolean(),
  projects: z.array(z.string()),
  createdAt: z.number(),
  modifiedAt: z.number(),
  deleted: z.boolean().optional(),
});
const eventSchema = z.object({
  seq: z.number(),
  action: z.enum(['added', 'changed', 'removed', 'deleted']),
  type: z.enum(['task', 'project']),
  gid: z.string(),
  project: z.string(),
  at: z.number(),
});
const webhookSchema = z.object({
  gid: z.string(),
  resource: z.string(),
  target: z.string(),
  /** The X-Hook-Secret of the handshake; never shown by the control API. */
  secret: z.string(),
  account: z.string(),
  createdAt: z.number(),
  deletedAt: z.number().optional(),
  deliveries: z.array(z.object({ at: z.string(), status: z.number().nullable(), events: z.number() })),
});

export const asanaStateSchema = z.object({
  seq: z.number(),
  /** The first event still held. */
  floor: z.number(),
  /** Bumped to invalidate every sync token. */
  epoch: z.number(),
  nextGid: z.number(),
  projects: z.record(z.string(), projectSchema),
  tasks: z.record(z.string(), taskSchema),
  events: z.array(eventSchema),
  webhooks: z.record(z.string(), webhookSchema),
});
export type AsanaState = z.infer<typeof asanaStateSchema>;
export type AsanaTask = z.infer<typeof taskSchema>;
export type AsanaProject = z.infer<typeof projectSchema>;
export type AsanaEvent = z.infer<typeof eventSchema>;
export type AsanaWebhook = z.infer<typeof webhookSchema>;

const EVENT_LIMIT = 5_000;

function seeded(now: number): AsanaState {
  const state: AsanaState = { seq: 0, floor: 1, epoch: 1, nextGid: 1, projects: {}, tasks: {}, events: [], webhooks: {} };
  const onboarding = { gid: '1200000000000101', name: 'Onboarding', archived: false, modifiedAt: now };
  const hiring = { gid: '1200000000000102', name: 'Hiring', archived: false, modifiedAt: now };
  state.projects[onboarding.gid] = onboarding;
  state.projects[hiring.gid] = hiring;
  const tasks: Array<[string, string]> = [
    ['Prepare laptop', onboarding.gid],
    ['Create accounts', onboarding.gid],
    ['Welcome lunch', onboarding.gid],
    ['Screen candidates', hiring.gid],
    ['Schedule interviews', hiring.gid],
  ];
  tasks.forEach(([name, project], index) => {
    const gid = `12000000000002${String(index).padStart(2, '0')}`;
    state.tasks[gid] = { gid, name, notes: '', assignee: null, dueOn: null, completed: false, projects: [project], createdAt: now, modifiedAt: now };
  });
  return state;
}

/** The live Asana state of the sandbox (persisted with the rest). */
export class AsanaData {
  constructor(private readonly store: SandboxStore) {}

  get state(): AsanaState {
    return this.store.fakeState('asana', asanaStateSchema, () => seeded(this.store.now()));
  }

  newGid(): string {
    const state = this.state;
    state.nextGid += 1;
    return `1209${stableDigits(`asana-gid:${state.nextGid}:${this.store.now()}`, 8)}${String(state.nextGid).padStart(4, '0')}`;
  }

  liveTasks(project: string): AsanaTask[] {
    return Object.values(this.state.tasks)
      .filter((task) => !task.deleted && task.projects.includes(project))
      .sort((a, b) => a.createdAt - b.createdAt || a.gid.localeCompare(b.gid));
  }

  /** Records a change; returns the events it made (one per project the resource is in). */
  record(action: AsanaEvent['action'], type: AsanaEvent['type'], gid: string, projects: readonly string[]): AsanaEvent[] {
    const state = this.state;
    const events = projects.map((project) => {
      state.seq += 1;
      const event: AsanaEvent = { seq: state.seq, action, type, gid, project, at: this.store.now() };
      state.events.push(event);
      return event;
    });
    if (state.events.length > EVENT_LIMIT) {
      const dropped = state.events.splice(0, state.events.length - EVENT_LIMIT);
      // Tokens that had not seen the dropped events can no longer be served.
      state.floor = Math.max(state.floor, (dropped.at(-1)?.seq ?? 0) + 1);
    }
    this.store.touch();
    return events;
  }

  /** Every sync token issued so far becomes too old (the next `/events` call is a 412). */
  invalidateSyncTokens(): void {
    this.state.epoch += 1;
    this.store.touch();
  }

  /** A sync token for "everything up to now" on `resource`. */
  syncToken(resource: string): string {
    return Buffer.from(JSON.stringify({ r: resource, s: this.state.seq, e: this.state.epoch })).toString('base64url');
  }

  /** The last event a token saw, or undefined when it is unknown, for another resource, or too old. */
  syncPosition(token: string, resource: string): number | undefined {
    const parsed = z
      .object({ r: z.string(), s: z.number().int(), e: z.number().int() })
      .safeParse((() => {
        try {
          return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      })());
    if (!parsed.success || parsed.data.r !== resource || parsed.data.e !== this.state.epoch || parsed.data.s < this.state.floor - 1) return undefined;
    return parsed.data.s;
  }
}
