import * as z from 'zod';
import { defineAction } from '../actions';
import type { ActionFailure, ProviderActions } from '../types';
import { asanaClient } from './client';
import { ASANA_CREDENTIAL } from './oauth';

/** What the HR platform does in Asana: onboarding checklists as tasks, as the connected user. */
const createTask = defineAction({
  name: 'asana.createTask',
  credentialKind: ASANA_CREDENTIAL,
  requiredScope: 'tasks:write',
  client: asanaClient,
  input: z
    .object({
      name: z.string().min(1).max(1024),
      notes: z.string().max(65_536).optional(),
      /** A user gid, an email address, or `me`. */
      assignee: z.union([z.literal('me'), z.email(), z.string().regex(/^\d{1,32}$/)]).optional(),
      dueOn: z.iso.date().optional(),
      /** A project gid; without one the task goes to the user's first workspace, unassigned to any project. */
      project: z.string().regex(/^\d{1,32}$/).optional(),
    })
    .strict(),
  run: async (client, accessToken, input) => {
    const workspace = input.project === undefined ? (await client.me(accessToken)).workspaces[0]?.gid : undefined;
    const task = await client.createTask(accessToken, {
      name: input.name,
      ...(input.notes !== undefined ? { notes: input.notes } : {}),
      ...(input.assignee !== undefined ? { assignee: input.assignee } : {}),
      ...(input.dueOn !== undefined ? { dueOn: input.dueOn } : {}),
      ...(input.project !== undefined ? { projects: [input.project] } : {}),
      ...(workspace !== undefined ? { workspace } : {}),
    });
    return { ids: { taskId: task.gid }, ...(task.permalink_url ? { details: { url: task.permalink_url } } : {}) };
  },
});

const FAILURES: Readonly<Record<string, ActionFailure>> = { forbidden: 'missing_scope', not_found: 'not_found' };

export const asanaActions: ProviderActions = {
  list: [createTask],
  failureOf: (code) => FAILURES[code],
};
