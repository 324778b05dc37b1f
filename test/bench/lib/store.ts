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
  /** Per command name, e.g. `GetItemCommand`, `UpdateItemCommand` (the low-level names, also for document-client calls). */
  byCommand(): Record<string, number>;
  /**
   * Per command and kind of item, e.g. `PutItemCommand REC`, `GetItemCommand INT`: the
   * kind is the sort key's first `#` segment (Put: the item's, Get/Update/Delete:
   * the key's); queries are `QueryCommand <index>` or `QueryCommand table`.
   */
  byItemKind(): Record<string, number>;
  /** Items returned per command (Query/Scan: Count, Get: 0 or 1, BatchGet: responses), from answered requests. */
  itemsRead(): Record<string, number>;
}

/** Count of `key` in `after` less that in `before`, dropping zeros (for snapshots of the maps above). */
export function countsDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, count]): [string, number] => [key, count - (before[key] ?? 0)])
      .filter(([, count]) => count !== 0),
  );
}

const sortKeyKind = (value: unknown): string | undefined => {
  const sk = typeof value === 'string' ? value : value !== null && typeof value === 'object' && 'S' in value ? (value as { S?: unknown }).S : undefined;
  return typeof sk === 'string' ? (sk.split('#')[0] ?? sk) : undefined;
};

function itemKindOf(name: string, input: unknown): string {
  const fields = (input ?? {}) as { Item?: { sk?: unknown }; Key?: { sk?: unknown }; IndexName?: unknown };
  if (name === 'QueryCommand' || name === 'ScanCommand') return `${name} ${typeof fields.IndexName === 'string' ? fields.IndexName : 'table'}`;
  const kind = sortKeyKind(fields.Item?.sk) ?? sortKeyKind(fields.Key?.sk);
  return kind === undefined ? name : `${name} ${kind}`;
}

function itemsReturned(output: unknown): number {
  const fields = (output ?? {}) as { Count?: unknown; Item?: unknown; Responses?: unknown };
  if (typeof fields.Count === 'number') return fields.Count;
  if ('Item' in fields) return fields.Item ? 1 : 0;
  if (fields.Responses && typeof fields.Responses === 'object') {
    return Object.values(fields.Responses as Record<string, unknown>).reduce<number>((sum, items) => sum + (Array.isArray(items) ? items.length : 0), 0);
  }
  return 0;
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
    const byItemKind = new Map<string, number>();
    const itemsRead = new Map<string, number>();
    const add = (map: Map<string, number>, key: string, count: number) => map.set(key, (map.get(key) ?? 0) + count);
    dynamo().middlewareStack.add(
      (next, handlerContext) => async (args) => {
        total += 1;
        const name = handlerContext.commandName ?? 'unknown';
        add(byCommand, name, 1);
        add(byItemKind, itemKindOf(name, args.input), 1);
        try {
          const result = await next(args);
          const read = itemsReturned(result.output);
          if (read > 0) add(itemsRead, name, read);
          return result;
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
      byItemKind: () => Object.fromEntries(byItemKind),
      itemsRead: () => Object.fromEntries(itemsRead),
    };
  });
}
