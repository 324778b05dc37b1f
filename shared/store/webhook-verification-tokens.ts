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
  /** Only tokens received at or after this time. */
  since?: string;
  /** Only tokens received before this time (the next page after a listing ending at it). */
  before?: string;
  limit: number;
}

/** Candidates still live, newest first; the routing index is read for as many as asked, never the whole set. */
export async function tokenCandidates(providerId: string, query: CandidateQuery): Promise<TokenCandidate[]> {
  const { Items = [] } = await dynamo().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: TABLE.indexes.routing.name,
      // ISO times start with a digit: '0' and '9' bound them all, and `before` sorts ahead of `<before>#<hash>`.
      KeyConditionExpression: 'routeKey = :route AND routeSk BETWEEN :since AND :before',
      ExpressionAttributeValues: { ':route': keys.webhookTokenCandidatesRoute(providerId), ':since': query.since ?? '0', ':before': query.before ?? '9' },
      ScanIndexForward: false,
      Limit: query.limit,
    }),
  );
  return Items.filter((item) => isLive(item)).flatMap((item) => {
    const parsed = candidateSchema.safeParse(item);
    return parsed.success ? [parsed.data] : [];
  });
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
