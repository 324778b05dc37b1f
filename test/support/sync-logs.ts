import type { ApiAnswer } from './runtime-client';

/** What the e2e tests read of a sync log (GET …/sync-logs). */
export interface SyncLogView {
  syncId: string;
  trigger: string;
  outcome: string;
  counts: Record<string, { created: number; updated: number; deleted: number }>;
  errorCode?: string;
  attempts?: number;
  /** Manual syncs requested while this one ran, served by it. */
  covers?: string[];
}

type Get = (path: string) => Promise<ApiAnswer<{ logs: SyncLogView[] }>>;

/** Polls an integration's sync logs until one matches (a sync runs asynchronously on the local bus). */
export async function waitForSyncLog(get: Get, integrationId: string, match: (log: SyncLogView) => boolean, timeoutMs = 20_000): Promise<SyncLogView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logs = (await get(`/api/integrations/${integrationId}/sync-logs`)).data.logs;
    const found = logs.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching sync log; have ${JSON.stringify(logs)}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
