/**
 * One-time secrets for test deliveries. Google channel tokens and Graph
 * clientState are stored only as hashes, so the service cannot sign a
 * delivery with the real secret; instead the test endpoint stores the hash
 * of a fresh secret for one channel, for five minutes, and presents
 * `hrtest.<id>.<secret>` where the real secret goes. The webhook consumes the
 * item with a conditional delete: it verifies once, for that channel only,
 * and the delivery is a test by construction. Real secrets are base64url and
 * never contain a dot, so the two can never be taken for each other.
 */
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createHash, randomBytes } from 'node:crypto';
import { ulid } from 'ulid';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure, nowEpochSeconds } from './items';
import { keys } from './keys';

export const WEBHOOK_TEST_TTL_SECONDS = 5 * 60;
const TOKEN_PREFIX = 'hrtest';

const testTokenSchema = z.string().regex(/^hrtest\.[0-9A-HJKMNP-TV-Z]{26}\.[A-Za-z0-9_-]{43}$/);
const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** A presented channel token or clientState that claims to be a test token. */
export const isTestToken = (presented: string | undefined): presented is string => presented?.startsWith(`${TOKEN_PREFIX}.`) === true;

export interface TestDeliveryTarget {
  orgId: string;
  integrationId: string;
  providerId: string;
  subscriptionId: string;
}

/** Stores a fresh one-time secret for the channel; returns the token to present. */
export async function issueTestToken(target: TestDeliveryTarget, now: Date = new Date()): Promise<string> {
  const testId = ulid(now.getTime());
  const secret = randomBytes(32).toString('base64url');
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.webhookTest(testId),
        sk: keys.webhookTestSk,
        ...target,
        secretHash: hash(secret),
        expiresAt: nowEpochSeconds(now) + WEBHOOK_TEST_TTL_SECONDS,
      },
    }),
  );
  return `${TOKEN_PREFIX}.${testId}.${secret}`;
}

const consumedSchema = z.object({ orgId: z.string(), integrationId: z.string(), providerId: z.string(), subscriptionId: z.string() });

/**
 * Consumes a test token presented on `subscriptionId`: the target it was
 * issued for, or undefined when it is malformed, unknown, expired, already
 * used or issued for another channel.
 */
export async function consumeTestToken(presented: string, subscriptionId: string, now: Date = new Date()): Promise<TestDeliveryTarget | undefined> {
  if (!testTokenSchema.safeParse(presented).success) return undefined;
  const [, testId = '', secret = ''] = presented.split('.');
  try {
    const { Attributes: consumed } = await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { pk: keys.webhookTest(testId), sk: keys.webhookTestSk },
        ConditionExpression: 'secretHash = :hash AND subscriptionId = :subscription AND expiresAt > :now',
        ExpressionAttributeValues: { ':hash': hash(secret), ':subscription': subscriptionId, ':now': nowEpochSeconds(now) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const parsed = consumedSchema.safeParse(consumed);
    return parsed.success ? parsed.data : undefined;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return undefined;
    throw error;
  }
}
