import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from './client';
import { isConditionalCheckFailure } from './items';
import { keys } from './keys';

/** Where an integration's tokens item lives. Kept apart from the vault so webhook functions can drop tokens without bundling crypto. */
export interface TokenRef {
  orgId: string;
  integrationId: string;
  providerId: string;
}

export const tokenKey = (ref: TokenRef) => ({ pk: keys.org(ref.orgId), sk: keys.tokens(ref.integrationId) });

/**
 * Drops the tokens item. With `grantId`, only while that grant is the stored
 * one: false when a reconnect stored another grant meanwhile.
 */
export async function deleteCredentials(ref: TokenRef, grantId?: string): Promise<boolean> {
  try {
    await dynamo().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: tokenKey(ref),
        ...(grantId ? { ConditionExpression: 'attribute_not_exists(pk) OR grantId = :grant', ExpressionAttributeValues: { ':grant': grantId } } : {}),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}
