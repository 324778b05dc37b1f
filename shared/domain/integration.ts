import * as z from 'zod';

/** `status` is the connection's lifecycle; `healthStatus` is how well it is working (architecture §6). */
export const integrationStatuses = ['active', 'disconnected', 'erased'] as const;
export const healthStatuses = ['healthy', 'degraded', 'disconnected', 'syncing'] as const;

export type IntegrationStatus = (typeof integrationStatuses)[number];
export type HealthStatus = (typeof healthStatuses)[number];

/** Integration ids are `int_` + 26 Crockford base32 characters (a ULID): sortable, unguessable enough, never reused. */
export const integrationIdSchema = z
  .string()
  .regex(/^int_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an integration id such as int_01JD3X8Q9W7T5V4N2M1K0H8G6F');

/** The integration item as stored (without key attributes); parsed on every read. */
export const integrationRecordSchema = z.object({
  id: integrationIdSchema,
  orgId: z.string().min(1),
  providerId: z.string().min(1),
  status: z.enum(integrationStatuses),
  healthStatus: z.enum(healthStatuses),
  healthReason: z.string().min(1),
  healthChangedAt: z.iso.datetime(),
  externalAccountId: z.string().min(1),
  externalAccountName: z.string().optional(),
  scopesGranted: z.array(z.string()),
  connectedAt: z.iso.datetime(),
  connectedBy: z.string().min(1),
  disconnectedAt: z.iso.datetime().optional(),
  lastSyncAt: z.iso.datetime().optional(),
  nextSyncAt: z.iso.datetime().optional(),
  /** Per-resource switches and scheduled sync (the guide's Sync Settings); absent means the defaults. */
  settings: z
    .object({ scheduledSync: z.boolean(), resources: z.record(z.string(), z.boolean()) })
    .optional(),
  consecutiveSyncFailures: z.number().int().nonnegative().optional(),
  /** Set by erasure: when it happened and when TTL removes the integration's items for good. */
  erasedAt: z.iso.datetime().optional(),
  purgeAt: z.iso.datetime().optional(),
  /** When a persisting problem was last alerted on, so one problem raises one alert. */
  alertedAt: z.iso.datetime().optional(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int().nonnegative(),
});

export type IntegrationRecord = z.infer<typeof integrationRecordSchema>;

/** What the API returns for an integration (the user guide's shape, plus health detail); the OpenAPI contract's schema. */
export const integrationViewSchema = z.object({
  id: integrationIdSchema,
  providerId: z.string(),
  providerName: z.string(),
  status: z.enum(integrationStatuses),
  healthStatus: z.enum(healthStatuses),
  healthReason: z.string(),
  healthChangedAt: z.iso.datetime(),
  externalAccount: z.object({ id: z.string(), name: z.string().optional() }).strict(),
  scopes: z.array(z.string()),
  connectedAt: z.iso.datetime(),
  lastSyncAt: z.iso.datetime().nullable(),
  disconnectedAt: z.iso.datetime().nullable(),
}).strict();

export type IntegrationView = z.infer<typeof integrationViewSchema>;

export function toIntegrationView(record: IntegrationRecord, providerName: string): IntegrationView {
  return {
    id: record.id,
    providerId: record.providerId,
    providerName,
    status: record.status,
    healthStatus: record.healthStatus,
    healthReason: record.healthReason,
    healthChangedAt: record.healthChangedAt,
    externalAccount:
      record.externalAccountName === undefined
        ? { id: record.externalAccountId }
        : { id: record.externalAccountId, name: record.externalAccountName },
    scopes: record.scopesGranted,
    connectedAt: record.connectedAt,
    lastSyncAt: record.lastSyncAt ?? null,
    disconnectedAt: record.disconnectedAt ?? null,
  };
}
