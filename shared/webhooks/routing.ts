import { TABLE } from '../store/table';
import { queryAllLive } from '../store/items';
import { keys } from '../store/keys';
import { integrationRecordSchema, type IntegrationRecord } from '../domain/integration';

/**
 * Every integration connected to a provider account, across organisations
 * (two organisations may connect the same Slack workspace): the `routing`
 * index written at connect time, so a webhook never scans.
 */
export async function integrationsForAccount(providerId: string, accountId: string): Promise<IntegrationRecord[]> {
  const items = await queryAllLive({
    IndexName: TABLE.indexes.routing.name,
    KeyConditionExpression: 'routeKey = :route',
    ExpressionAttributeValues: { ':route': keys.accountRoute(providerId, accountId) },
  });
  return items.flatMap((item) => {
    const parsed = integrationRecordSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
}
