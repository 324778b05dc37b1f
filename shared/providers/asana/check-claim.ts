/**
 * The claim that runs one daily check of an integration's Asana webhooks at
 * a time, so two renewal runs racing make one webhook per project. It is not
 * the lifecycle lease: a check calls Asana (up to MAX_WEBHOOKS creations,
 * each with its handshake), and a user's disconnect must not wait for that.
 * A single conditional put; the item carries the table's TTL, so a crashed
 * holder's claim lapses after CHECK_CLAIM_SECONDS (the renewal job's own
 * timeout: no live check outlasts it).
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { VersionConflictError } from '../../domain/errors';
import { dynamo, tableName } from '../../store/client';
import { isConditionalCheckFailure, nowEpochSeconds } from '../../store/items';
import { keys } from '../../store/keys';

const CHECK_CLAIM_SECONDS = 300;
/** How long a check waits for another check of the same integration; then it fails and the next hourly run retries. */
const CHECK_WAIT_MS = 10_000;

const claimKey = (orgId: string, integrationId: string) => ({ pk: keys.org(orgId), sk: keys.asanaWebhookCheck(integrationId) });

async function claim(orgId: string, integrationId: string, owner: string): Promise<boolean> {
  const now = nowEpochSeconds();
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...claimKey(orgId, integrationId), owner, expiresAt: now + CHECK_CLAIM_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

async function release(orgId: string, integrationId: string, owner: string): Promise<void> {
  await dynamo()
    .send(new DeleteCommand({ TableName: tableName(), Key: claimKey(orgId, integrationId), ConditionExpression: '#owner = :owner', ExpressionAttributeNames: { '#owner': 'owner' }, ExpressionAttributeValues: { ':owner': owner } }))
    .catch((error: unknown) => {
      if (!isConditionalCheckFailure(error)) throw error;
    });
}

/** Runs `check` holding the integration's check claim, waiting a little for another check to finish. */
export async function withWebhookCheckClaim<T>(orgId: string, integrationId: string, check: () => Promise<T>): Promise<T> {
  const owner = randomUUID();
  const deadline = Date.now() + CHECK_WAIT_MS;
  while (!(await claim(orgId, integrationId, owner))) {
    if (Date.now() > deadline) throw new VersionConflictError(`Another check of integration ${integrationId}'s Asana webhooks is under way`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
  }
  try {
    return await check();
  } finally {
    await release(orgId, integrationId, owner);
  }
}
