import type { TestProject } from 'vitest/node';
import { ensureTable, startEmbeddedDynamo } from '../../infra/local/embedded-store';

export const TEST_TABLE = 'integrations-test';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

export default async function setup(project: TestProject) {
  const dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.endpoint, TEST_TABLE);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.close();
  };
}
