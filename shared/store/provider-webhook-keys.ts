import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure } from './items';
import { keys } from './keys';

/**
 * Signing keys a provider sends once for our whole app rather than per
 * subscription: Notion posts a `verification_token` to the webhook when the
 * app owner creates the subscription in Notion's integration settings, then
 * signs every event with it. The post itself cannot be authenticated (it is
 * signed with the token it carries), so every token received is kept as a
 * candidate (the newest few), and one becomes confirmed when an event signed
 * with it arrives (Notion sends events only once the owner pasted the token
 * back). Once one is proven, the webhook verifies events with proven tokens
 * only, so a token posted later cannot sign events or displace it. Kept in plain in
 * the table (encrypted at rest by its KMS key, readable by the functions'
 * roles only), because verifying an HMAC needs the key itself.
 */
const CANDIDATES_KEPT = 5;
const CONFIRMED_KEPT = 2;

const keySchema = z.object({ key: z.string().min(1), receivedAt: z.iso.datetime(), confirmedAt: z.iso.datetime().optional() });
const itemSchema = z.object({ keys: z.array(keySchema), version: z.number().int() });
export type ProviderWebhookKey = z.infer<typeof keySchema>;

const location = (providerId: string) => ({ pk: keys.providerWebhookKeys(providerId), sk: keys.providerWebhookKeysSk });

async function read(providerId: string): Promise<z.infer<typeof itemSchema>> {
  const found = await dynamo().send(new GetCommand({ TableName: tableName(), Key: location(providerId), ConsistentRead: true }));
  const parsed = itemSchema.safeParse(found.Item);
  return parsed.success ? parsed.data : { keys: [], version: 0 };
}

/** Read, change, write under the version read (retried when another writer came first). */
async function update(providerId: string, change: (current: ProviderWebhookKey[]) => ProviderWebhookKey[]): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const current = await read(providerId);
    try {
      await dynamo().send(
        new PutCommand({
          TableName: tableName(),
          Item: { ...location(providerId), keys: change(current.keys), version: current.version + 1 },
          ConditionExpression: 'attribute_not_exists(pk) OR version = :version',
          ExpressionAttributeValues: { ':version': current.version },
        }),
      );
      return;
    } catch (error) {
      if (!isConditionalCheckFailure(error)) throw error;
    }
  }
  throw new Error(`Provider webhook keys of ${providerId}: too many concurrent writers`);
}

/** The provider's keys, newest first. */
export async function providerWebhookKeys(providerId: string): Promise<ProviderWebhookKey[]> {
  return (await read(providerId)).keys;
}

/** Keeps a key the provider sent (a repeat of a known one changes nothing). */
export function addProviderWebhookKey(providerId: string, key: string, now: Date = new Date()): Promise<void> {
  return update(providerId, (current) => {
    if (current.some((known) => known.key === key)) return current;
    const all = [{ key, receivedAt: now.toISOString() }, ...current];
    const confirmed = all.filter((known) => known.confirmedAt).slice(0, CONFIRMED_KEPT);
    const candidates = all.filter((known) => !known.confirmedAt).slice(0, CANDIDATES_KEPT);
    return [...candidates, ...confirmed].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt));
  });
}

/** Marks a key as proven by an event signed with it. */
export function confirmProviderWebhookKey(providerId: string, key: string, now: Date = new Date()): Promise<void> {
  return update(providerId, (current) => current.map((known) => (known.key === key && !known.confirmedAt ? { ...known, confirmedAt: now.toISOString() } : known)));
}
