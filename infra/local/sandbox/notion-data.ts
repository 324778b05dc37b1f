import * as z from 'zod';
import { stableUuid } from './ids';
import type { SandboxStore } from './state';

/**
 * The Notion fake's data: pages and databases by workspace (a workspace is
 * derived from the consenting account's domain), the webhook subscription of
 * the sandbox's public integration, and whether refresh tokens are issued
 * (Notion's lifetimes are undocumented: `rotating` issues a new refresh token
 * on every refresh and revokes the old one, `none` issues none).
 */
const objectSchema = z.object({
  id: z.string(),
  object: z.enum(['page', 'database']),
  workspaceId: z.string(),
  title: z.string(),
  parentId: z.string().nullable(),
  createdTime: z.number(),
  lastEditedTime: z.number(),
  inTrash: z.boolean(),
  /** Paragraph texts of a page created through the API. */
  content: z.array(z.string()),
});
const subscriptionSchema = z.object({
  id: z.string(),
  url: z.string(),
  /** Sent once to the URL; the app owner pastes it back into Notion. Never shown by the control API. */
  verificationToken: z.string(),
  verified: z.boolean(),
  deliveries: z.array(z.object({ at: z.string(), type: z.string(), status: z.number().nullable() })),
});

export const notionStateSchema = z.object({
  objects: z.record(z.string(), objectSchema),
  seededWorkspaces: z.array(z.string()),
  /** Search cursors issued before this epoch are refused (invalid start_cursor). */
  cursorEpoch: z.number(),
  refreshTokens: z.enum(['rotating', 'none']),
  subscription: subscriptionSchema.optional(),
  /** Where the app receives deliveries (the local runtime's webhook). */
  webhookUrl: z.string().optional(),
});
export type NotionState = z.infer<typeof notionStateSchema>;
export type NotionObject = z.infer<typeof objectSchema>;

export const notionWorkspaceId = (account: string): string => stableUuid(`notion-workspace:${account.split('@')[1] ?? account}`);
export const notionWorkspaceName = (account: string): string => `Sandbox ${(account.split('@')[1] ?? account).split('.')[0] ?? 'Notion'}`;
export const notionUserId = (account: string): string => stableUuid(`notion-user:${account}`);

export class NotionData {
  constructor(private readonly store: SandboxStore) {}

  get state(): NotionState {
    return this.store.fakeState('notion', notionStateSchema, () => ({ objects: {}, seededWorkspaces: [], cursorEpoch: 1, refreshTokens: 'rotating' }));
  }

  /** A workspace's pages and databases, seeded on first use: a handbook, two pages under it and an employee database. */
  objectsOf(workspaceId: string): NotionObject[] {
    const state = this.state;
    if (!state.seededWorkspaces.includes(workspaceId)) {
      state.seededWorkspaces.push(workspaceId);
      const handbook = this.add(workspaceId, 'page', 'Employee handbook', null);
      this.add(workspaceId, 'page', 'Benefits', handbook.id);
      this.add(workspaceId, 'page', 'Remote work policy', handbook.id);
      this.add(workspaceId, 'database', 'Employees', handbook.id);
    }
    return Object.values(state.objects).filter((object) => object.workspaceId === workspaceId);
  }

  add(workspaceId: string, object: NotionObject['object'], title: string, parentId: string | null, content: string[] = []): NotionObject {
    const now = this.store.now();
    const created: NotionObject = { id: stableUuid(`notion:${workspaceId}:${title}:${now}:${Object.keys(this.state.objects).length}`), object, workspaceId, title, parentId, createdTime: now, lastEditedTime: now, inTrash: false, content };
    this.state.objects[created.id] = created;
    this.store.touch();
    return created;
  }
}
