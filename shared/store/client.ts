import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tableConfig } from '../config';
import { awsClientConfig, boundedByDeadline } from '../deadline';

/**
 * One document client per container. The endpoint comes from the SDK's own
 * `AWS_ENDPOINT_URL_DYNAMODB` (the local runtime points it at dynalite).
 */
let documentClient: DynamoDBDocumentClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= boundedByDeadline(
    DynamoDBDocumentClient.from(new DynamoDBClient(awsClientConfig()), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
  );
  return documentClient;
}

export const tableName = (): string => tableConfig().tableName;
