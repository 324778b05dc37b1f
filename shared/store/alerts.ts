/**
 * Open alerts: one item per organisation, integration (or none, for an
 * organisation-level alert) and kind, kept while the problem is open and
 * deleted when it is resolved. The conditional put is what makes raising
 * idempotent: a second raise of an open alert writes nothing.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { inBatches } from '../concurrency';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure, queryAllLive } from './items';
import { keys } from './keys';

export const storedAlertSchema = z.object({
  orgId: z.string(),
  integrationId: z.string().optional(),
  providerId: z.string().optional(),
  kind: z.string(),
  reason: z.string(),
  message: z.string(),
  detail: z.record(z.string(), z.unknown()).optional(),
  raisedAt: z.iso.datetime(),
});
export type StoredAlert = z.infer<typeof storedAlertSchema>;

const alertKey = (alert: Pick<StoredAlert, 'orgId' | 'integrationId' | 'kind'>) => ({ pk: keys.org(alert.orgId), sk: keys.alert(alert.integrationId, alert.kind) });

/** Stores the alert unless one of its org, integration and kind is already open; true when this call opened it. */
export async function openAlert(alert: StoredAlert): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({ TableName: tableName(), Item: { ...alertKey(alert), ...alert }, ConditionExpression: 'attribute_not_exists(pk)' }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

export async function deleteAlert(alert: Pick<StoredAlert, 'orgId' | 'integrationId' | 'kind'>): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: alertKey(alert) }));
}

async function alertsUnder(orgId: string, prefix: string): Promise<StoredAlert[]> {
  const items = await queryAllLive({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': prefix },
  });
  return items.flatMap((item) => {
    const parsed = storedAlertSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

/** The organisation's open alerts (few: one per integration and kind at most). */
export const openAlertsOf = (orgId: string): Promise<StoredAlert[]> => alertsUnder(orgId, keys.alertPrefix);

export const openAlertsOfIntegration = (orgId: string, integrationId: string): Promise<StoredAlert[]> =>
  alertsUnder(orgId, keys.integrationAlertPrefix(integrationId));

/** Deletes the integration's open alerts (those of the kinds `ofKind` accepts, else all); returns how many there were. */
export async function deleteAlertsOfIntegration(orgId: string, integrationId: string, ofKind: (kind: string) => boolean = () => true): Promise<number> {
  const open = (await openAlertsOfIntegration(orgId, integrationId)).filter((alert) => ofKind(alert.kind));
  await inBatches(open, deleteAlert);
  return open.length;
}
