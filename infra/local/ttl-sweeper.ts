import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../../shared/store/table';

/**
 * DynamoDB's TTL, for dynalite (which never expires anything): deletes items
 * whose `expiresAt` has passed, as AWS would (later than that, not sooner).
 * A Scan is fine here: it is the local runtime standing in for the service;
 * the application itself never scans.
 */
export class LocalTtlSweeper {
  private readonly client: DynamoDBClient;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    endpoint: string,
    private readonly tableName: string,
  ) {
    this.client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), everyMs);
  }

  /** Deletes every expired item now; returns how many. */
  sweep(now: Date = new Date()): Promise<number> {
    this.running ??= this.sweepOnce(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepOnce(now: Date): Promise<number> {
    let deleted = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: '#ttl < :now',
          ExpressionAttributeNames: { '#ttl': TABLE.ttlAttribute, '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
          ExpressionAttributeValues: { ':now': { N: String(Math.floor(now.getTime() / 1000)) } },
          ProjectionExpression: '#pk, #sk',
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = page.Items ?? [];
      for (let start = 0; start < keys.length; start += 25) {
        const batch = keys.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
        await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: batch } }));
        deleted += batch.length;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  /** No more timed sweeps; a sweep under way goes on. */
  pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no sweep runs (whatever its outcome: the next sweep deletes what this one missed). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.pause();
    await this.idle();
    this.client.destroy();
  }
}
