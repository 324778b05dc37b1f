/**
 * Alerts: problems that persist or need a person (a sync failing again and
 * again, a lapsed push channel, an outgoing endpoint disabled). Raising one
 * stores it as open and publishes `integration.alert` once; raising it again
 * while open does nothing. An integration's alerts are resolved by a success
 * that settles their kind (domain/health.ts: a sync for `sync_failing`, a
 * renewal for `webhook_lapsed`, health back to healthy for `degraded`), and
 * all of them when it is disconnected and when it is erased.
 * The open ones are what a settings page shows as a banner.
 */
import * as z from 'zod';
import { publishEvents } from '../events/publisher';
import { logger } from '../logging/logger';
import { deleteAlert, deleteAlertsOfIntegration, openAlert, openAlertsOf, type StoredAlert } from '../store/alerts';
import { getIntegration } from '../store/integrations';

export interface AlertInput {
  orgId: string;
  integrationId?: string;
  /** What kind of problem: one open alert per organisation, integration and kind. */
  kind: string;
  /** Machine-readable cause (published as the event's `reason`). */
  reason: string;
  /** One sentence for a person. */
  message: string;
  detail?: Record<string, unknown>;
}

export async function raiseAlert(input: AlertInput): Promise<void> {
  const now = new Date();
  let providerId: string | undefined;
  if (input.integrationId !== undefined) {
    const integration = await getIntegration(input.orgId, input.integrationId);
    // A disconnected or erased integration has nothing left to alert on (its alerts were resolved with it).
    if (integration?.status !== 'active') return;
    providerId = integration.providerId;
  }
  const alert: StoredAlert = {
    orgId: input.orgId,
    ...(input.integrationId === undefined ? {} : { integrationId: input.integrationId }),
    ...(providerId === undefined ? {} : { providerId }),
    kind: input.kind,
    reason: input.reason,
    message: input.message,
    ...(input.detail === undefined ? {} : { detail: input.detail }),
    raisedAt: now.toISOString(),
  };
  if (!(await openAlert(alert))) return;
  // Checked again once open: a recovery (or a disconnect) that came between the read above and the open
  // resolved nothing, so this alert would outlive its problem. Any resolution after this check finds it.
  if (input.integrationId !== undefined && !(await stillAlerting(input.orgId, input.integrationId))) {
    await deleteAlert(alert);
    return;
  }
  try {
    await publishEvents(
      [
        {
          type: 'integration.alert',
          orgId: input.orgId,
          ...(input.integrationId === undefined ? {} : { integrationId: input.integrationId }),
          detail: { ...input.detail, ...(providerId === undefined ? {} : { providerId }), kind: input.kind, reason: input.reason, message: input.message, raisedAt: alert.raisedAt },
        },
      ],
      now,
    );
  } catch (error) {
    // Unannounced, the alert is not open: the caller's retry (or the next occurrence) raises it again.
    await deleteAlert(alert);
    throw error;
  }
}

/** An integration's alert stands while it is connected and not healthy (every integration alert is raised on a degraded one). */
async function stillAlerting(orgId: string, integrationId: string): Promise<boolean> {
  const integration = await getIntegration(orgId, integrationId);
  return integration?.status === 'active' && integration.healthStatus !== 'healthy';
}

/**
 * Resolves the integration's open alerts: all of them at a disconnect or an erasure, those of the kinds a
 * success settles otherwise (domain/health.ts); returns how many.
 */
export async function resolveIntegrationAlerts(orgId: string, integrationId: string, ofKind?: (kind: string) => boolean): Promise<number> {
  const resolved = await deleteAlertsOfIntegration(orgId, integrationId, ofKind);
  if (resolved > 0) logger.info('Alerts resolved', { integrationId, resolved });
  return resolved;
}

export const alertViewSchema = z.object({
  providerId: z.string().nullable(),
  integrationId: z.string().nullable(),
  kind: z.string(),
  reason: z.string(),
  message: z.string(),
  raisedAt: z.iso.datetime(),
});
export type AlertView = z.infer<typeof alertViewSchema>;
export const alertListSchema = z.object({ alerts: z.array(alertViewSchema) });

/** The organisation's open alerts, newest first: a banner's data. */
export async function listOpenAlerts(orgId: string): Promise<{ alerts: AlertView[] }> {
  const open = await openAlertsOf(orgId);
  const alerts = open
    .map((alert) => ({
      providerId: alert.providerId ?? null,
      integrationId: alert.integrationId ?? null,
      kind: alert.kind,
      reason: alert.reason,
      message: alert.message,
      raisedAt: alert.raisedAt,
    }))
    .sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));
  return { alerts };
}
