/**
 * What an organisation reads about its integrations (lists, synced records,
 * sync logs, consents), page by page. Every read of one integration goes
 * through the one visibility lookup, so an erased or foreign integration is a
 * 404 everywhere.
 */
import * as z from 'zod';
import { consentRecordSchema, listConsents } from '../store/consents';
import { listIntegrations } from '../store/integrations';
import { listRecords, listSyncLogs, syncLogSchema, syncedRecordSchema } from '../store/sync';
import { validationFailed } from './errors';
import { requireVisibleIntegration } from './lifecycle';
import { providerSync } from './sync-settings';

export async function integrationsPage(orgId: string, cursor: string | undefined, limit: number) {
  const page = await listIntegrations(orgId, cursor, limit);
  return { ...page, items: page.items.filter((record) => record.status !== 'erased') };
}

export async function recordsPage(orgId: string, integrationId: string, resource: string, cursor: string | undefined, limit: number) {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  const resources = Object.keys(providerSync(integration).resources);
  if (!resources.includes(resource)) throw validationFailed(`resource must be one of: ${resources.join(', ')}`);
  return listRecords(orgId, integration.id, resource, cursor, limit);
}

export async function syncLogsPage(orgId: string, integrationId: string, cursor: string | undefined, limit: number) {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  return listSyncLogs(orgId, integration.id, cursor, limit);
}

export async function consentsPage(orgId: string, integrationId: string, cursor: string | undefined) {
  const integration = await requireVisibleIntegration(orgId, integrationId);
  return listConsents(orgId, integration.id, cursor);
}

/** The pages as the API answers them; `nextCursor` is null on the last page. */
const nextCursorSchema = z.string().nullable();
export const recordsPageSchema = z.object({ resource: z.string(), records: z.array(syncedRecordSchema), nextCursor: nextCursorSchema });
export const syncLogsPageSchema = z.object({ logs: z.array(syncLogSchema), nextCursor: nextCursorSchema });
export const consentsPageSchema = z.object({ consents: z.array(consentRecordSchema), nextCursor: nextCursorSchema });
