import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { dynamo, tableName } from './client';
import { getLiveItem, isLive, nowEpochSeconds } from './items';
import { keys } from './keys';
import { TABLE } from './table';

/**
 * Verification tokens a provider sends once for our whole app rather than
 * per subscription: Notion posts a `verification_token` to the webhook when
 * the app owner creates the subscription in Notion's integration settings,
 * then signs every event with it. Nobody can authenticate that post, so:
 *
 * - Every token posted is a candidate: one item, in a partition of its own
 *   (keyed by the token's hash), written by one unconditional put. Parallel
 *   posts never contend, no post can remove or replace another's item, so
 *   the real token cannot be evicted by spam, and spam never writes to the
 *   pinned token's partition, which every event reads. Candidates expire after
 *   CANDIDATE_TTL_SECONDS (DynamoDB TTL), which bounds what spam can store;
 *   each is also on the routing index under `<receivedAt>#<hash>`, so the
 *   operator lists them newest first, or from the time the owner created
 *   the subscription, however many others were posted later.
 * - An operator pins the candidate Notion accepted (the owner pastes it into
 *   Notion's "Verify subscription" form, and Notion accepts only the token
 *   it sent). Events verify against the pinned token alone.
 *
 * Kept in plain in the table (encrypted at rest by its KMS key, readable by
 * the functions' roles only), because verifying an HMAC needs the key itself.
 */
export const CANDIDATE_TTL_SECONDS = 7 * 24 * 60 * 60;

const candidateSchema = z.object({ token: z.string().min(1), receivedAt: z.iso.datetime() });
const pinnedSchema = candidateSchema.extend({ pinnedAt: z.iso.datetime() });
export type TokenCandidate = z.infer<typeof candidateSchema>;
export type PinnedToken = z.infer<typeof pinnedSchema>;

/** The token's SHA-256 in hex: its key among the candidates, and what the operator may be shown instead of it. */
export const tokenFingerprint = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Keeps a token the provider (or anyone) posted; posting it again only refreshes its time and expiry. */
export async function recordTokenCandidate(providerId: string, token: string, now: Date = new Date()): Promise<void> {
  const hash = tokenFingerprint(token);
  const receivedAt = now.toISOString();
  await dynamo().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        pk: keys.webhookTokenCandidate(providerId, hash),
        sk: keys.webhookTokenCandidateSk,
        token,
        receivedAt,
        [TABLE.ttlAttribute]: nowEpochSeconds(now) + CANDIDATE_TTL_SECONDS,
        routeKey: keys.webhookTokenCandidatesRoute(providerId),
        routeSk: `${receivedAt}#${hash}`,
      },
    }),
  );
}

export interface CandidateQuery {
  /** Only tokens received at or after this time (ISO 8601, to any precision). */
  since?: string;
  /**
   * Only tokens received before this time, or listed after this position
   * (a listed candidate's `position`: the next page, which keeps the other
   * tokens received in the same millisecond as the last one listed).
   */
  before?: string;
  limit: number;
}

export interface ListedCandidate extends TokenCandidate {
  /** Where the candidate sorts, `<receivedAt>#<token's hash>`: unique, so paging from it skips and repeats nothing. */
  position: string;
}

/** A listed candidate's position, `<receivedAt>#<SHA-256 hex>`, as `--before` of the next page. */
export const isCandidatePosition = (value: string): boolean => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z#[0-9a-f]{64}$/.test(value);
const storedTime = (time: string) => new Date(time).toISOString();

const listedSchema = candidateSchema.extend({ routeSk: z.string() });

/** Candidates still live, newest first; the routing index is read for as many as asked, never the whole set. */
export async function tokenCandidates(providerId: string, query: CandidateQuery): Promise<ListedCandidate[]> {
  // Bounds in the stored format (ISO with milliseconds): compared as text, `…:27Z` would sort after `…:27.083Z`.
  const since = query.since === undefined ? '0' : storedTime(query.since);
  const before = query.before === undefined ? '9' : isCandidatePosition(query.before) ? query.before : storedTime(query.before);
  // An empty window (DynamoDB refuses a BETWEEN whose bounds are reversed).
  if (since > before) return [];
  const { Items = [] } = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: TABLE.indexes.routing.name,
      // ISO times start with a digit: '0' and '9' bound them all, and a time sorts ahead of `<time>#<hash>`. A
      // position is itself within BETWEEN's inclusive bound: one more is read, and that candidate left out.
      KeyConditionExpression: 'routeKey = :route AND routeSk BETWEEN :since AND :before',
      ExpressionAttributeValues: { ':route': keys.webhookTokenCandidatesRoute(providerId), ':since': since, ':before': before },
      ScanIndexForward: false,
      Limit: query.limit + 1,
    }),
  );
  return Items.filter((item) => isLive(item) && item.routeSk !== before)
    .flatMap((item) => {
      const parsed = listedSchema.safeParse(item);
      return parsed.success ? [{ token: parsed.data.token, receivedAt: parsed.data.receivedAt, position: parsed.data.routeSk }] : [];
    })
    .slice(0, query.limit);
}

const pinnedLocation = (providerId: string) => ({ pk: keys.webhookTokenPinned(providerId), sk: keys.webhookTokenPinnedSk });

/** The token events verify against, if an operator pinned one. */
export async function pinnedToken(providerId: string): Promise<PinnedToken | undefined> {
  const { pk, sk } = pinnedLocation(providerId);
  const parsed = pinnedSchema.safeParse(await getLiveItem(pk, sk));
  return parsed.success ? parsed.data : undefined;
}

/** Pins a token that was received and has not expired (replacing any pinned before); undefined when it is not a candidate. */
export async function pinToken(providerId: string, token: string, now: Date = new Date()): Promise<PinnedToken | undefined> {
  const candidate = candidateSchema.safeParse(await getLiveItem(keys.webhookTokenCandidate(providerId, tokenFingerprint(token)), keys.webhookTokenCandidateSk));
  if (!candidate.success || candidate.data.token !== token) return undefined;
  const pinned: PinnedToken = { ...candidate.data, pinnedAt: now.toISOString() };
  await dynamo().send(new PutCommand({ TableName: tableName(), Item: { ...pinnedLocation(providerId), ...pinned } }));
  return pinned;
}

/** Removes the pin; false when none was pinned. */
export async function unpinToken(providerId: string): Promise<boolean> {
  const { Attributes } = await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: pinnedLocation(providerId), ReturnValues: 'ALL_OLD' }));
  return Attributes !== undefined;
}
