/**
 * The single table's shape, read by both the CDK stack and the local runtime
 * so the two cannot drift.
 *
 * - `pk`/`sk`: every item of an organisation lives under `ORG#<orgId>`.
 * - GSI `routing` (`routeKey`/`routeSk`): webhook routing (Slack team id,
 *   Google channel id, Graph subscription id, webhook id) to an integration.
 * - GSI `due` (`dueShard`/`dueAt`): work found by time (next sync, subscription
 *   expiry), spread over `DUE_SHARDS` partitions so none runs hot.
 * - `expiresAt`: epoch seconds, the DynamoDB TTL attribute. Reads also filter
 *   on it because TTL deletes late (and dynalite never does).
 */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  indexes: {
    routing: { name: 'routing', partitionKey: 'routeKey', sortKey: 'routeSk' },
    due: { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' },
  },
} as const;

export const DUE_SHARDS = 16;

export type IndexName = keyof typeof TABLE.indexes;
