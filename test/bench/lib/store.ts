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

export interface DynamoRequestCounter {
  /** Requests sent through the store's document client so far (every command, failed ones included). */
  total(): number;
  /** Of those, the ones DynamoDB refused (a lost conditional write among them). */
  failed(): number;
  /** Per command name, e.g. `GetCommand`, `UpdateCommand`. */
  byCommand(): Record<string, number>;
}

/**
 * Counts the requests of the store's own DynamoDB client (shared/store/client.ts,
 * one per process) from the first call on. Attached once per run, so sections
 * read differences between two snapshots.
 */
export function countDynamoRequests(context: BenchContext): Promise<DynamoRequestCounter> {
  return context.memo('dynamo-request-counter', async () => {
    await inProcessStore(context);
    const { dynamo } = await import('../../../shared/store/client');
    let total = 0;
    let failed = 0;
    const byCommand = new Map<string, number>();
    dynamo().middlewareStack.add(
      (next, handlerContext) => async (args) => {
        total += 1;
        const name = handlerContext.commandName ?? 'unknown';
        byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
        try {
          return await next(args);
        } catch (error) {
          failed += 1;
          throw error;
        }
      },
      { step: 'initialize', name: 'benchStoreRequestCounter' },
    );
    return {
      total: () => total,
      failed: () => failed,
      byCommand: () => Object.fromEntries(byCommand),
    };
  });
}
