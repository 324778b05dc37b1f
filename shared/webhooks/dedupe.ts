import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from '../store/client';
import { isConditionalCheckFailure, nowEpochSeconds } from '../store/items';
import { keys } from '../store/keys';

/**
 * Providers redeliver (Slack retries up to three times, Graph and Google
 * resend): a conditional put on the provider's event id lets exactly one
 * delivery through. The marker lives a day (TTL; reads of it are conditional
 * writes, which see expired-but-undeleted items, so an expired marker is
 * overwritten by the condition below).
 */
export const DEDUPE_TTL_SECONDS = 24 * 60 * 60;

export async function claimDelivery(providerId: string, eventId: string, now: Date = new Date()): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: tableName(),
        Item: {
          pk: keys.webhookEvent(providerId, eventId),
          sk: keys.webhookEventSk,
          receivedAt: now.toISOString(),
          expiresAt: nowEpochSeconds(now) + DEDUPE_TTL_SECONDS,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowEpochSeconds(now) },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

/** Gives the delivery back when processing failed, so the provider's retry is processed. */
export async function releaseDelivery(providerId: string, eventId: string): Promise<void> {
  await dynamo().send(
    new DeleteCommand({ TableName: tableName(), Key: { pk: keys.webhookEvent(providerId, eventId), sk: keys.webhookEventSk } }),
  );
}
