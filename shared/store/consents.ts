import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { queryLivePage, type Page } from './items';
import { keys } from './keys';

/** The consent ledger: one item per grant (who, when, what was asked and given, from where, under which terms). */
export const consentRecordSchema = z.object({
  orgId: z.string(),
  integrationId: z.string(),
  providerId: z.string(),
  userId: z.string(),
  grantedAt: z.iso.datetime(),
  scopesRequested: z.array(z.string()),
  scopesGranted: z.array(z.string()),
  ipAddress: z.string(),
  userAgent: z.string(),
  consentVersion: z.string(),
});

export type ConsentRecord = z.infer<typeof consentRecordSchema>;

export async function recordConsent(consent: ConsentRecord): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: { pk: keys.org(consent.orgId), sk: keys.consent(consent.integrationId, consent.grantedAt), ...consent },
    }),
  );
}

export async function listConsents(orgId: string, integrationId: string, cursor?: string): Promise<Page<ConsentRecord>> {
  const page = await queryLivePage(
    {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.org(orgId), ':prefix': keys.consentPrefix(integrationId) },
      ScanIndexForward: false,
    },
    cursor,
  );
  return { ...page, items: page.items.map((item) => consentRecordSchema.parse(item)) };
}
