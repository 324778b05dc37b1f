import { ensureTable, startEmbeddedDynamo } from '../../../infra/local/embedded-store';
import type { BenchContext } from './types';

/**
 * The embedded DynamoDB (dynalite in memory) for sections that run store code
 * in the bench process itself. The store reads its configuration once per
 * process (shared/config.ts), so every in-process section shares this one
 * table; it is started on first use and closed at the end of the run.
 */
export const BENCH_TABLE = 'hr-integrations-bench';

export interface InProcessStore {
  endpoint: string;
  tableName: string;
}

export function inProcessStore(context: BenchContext): Promise<InProcessStore> {
  return context.memo('in-process-store', async () => {
    const dynamo = await startEmbeddedDynamo();
    context.onCleanup(() => dynamo.close());
    await ensureTable(dynamo.endpoint, BENCH_TABLE);
    delete process.env.TOKEN_KMS_KEY_ARN;
    Object.assign(process.env, {
      AWS_REGION: process.env.AWS_REGION ?? 'local',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      TABLE_NAME: BENCH_TABLE,
    });
    return { endpoint: dynamo.endpoint, tableName: BENCH_TABLE };
  });
}
