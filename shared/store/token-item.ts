import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, tableName } from './client';
import { keys } from './keys';

/** Where an integration's tokens item lives. Kept apart from the vault so webhook functions can drop tokens without bundling crypto. */
export interface TokenRef {
  orgId: string;
  integrationId: string;
  providerId: string;
}

export const tokenKey = (ref: TokenRef) => ({ pk: keys.org(ref.orgId), sk: keys.tokens(ref.integrationId) });

export async function deleteCredentials(ref: TokenRef): Promise<void> {
  await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: tokenKey(ref) }));
}
