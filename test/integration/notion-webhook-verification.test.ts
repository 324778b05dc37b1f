import { createHmac, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleNotionDelivery } from '../../shared/providers/notion/webhook';
import { pinToken, recordTokenCandidate, tokenCandidates, unpinToken, CANDIDATE_TTL_SECONDS } from '../../shared/store/webhook-verification-tokens';

/**
 * Notion's verification post cannot be authenticated, so anyone may post a
 * token. Attacks: an outsider's tokens must neither evict the real one from
 * the operator's list nor verify events, before or after the operator pins
 * the real one; and parallel posts must never fail.
 */
const sign = (body: string, token: string) => `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
const post = (body: object, token?: string) => {
  const raw = JSON.stringify(body);
  return handleNotionDelivery(Buffer.from(raw), token === undefined ? undefined : sign(raw, token));
};
const postToken = (token: string) => post({ verification_token: token }, token);
// A workspace no integration has: a verified event is acknowledged as unrouted.
const event = () => ({ id: randomUUID(), type: 'page.content_updated', workspace_id: randomUUID(), entity: { id: randomUUID(), type: 'page' } });
const newToken = () => `secret_${randomUUID().replace(/-/g, '')}`;
const listedSince = async (since: string) => (await tokenCandidates('notion', { since, limit: 100 })).map((candidate) => candidate.token);

let start = '';
beforeEach(async () => {
  await unpinToken('notion');
  start = new Date().toISOString();
});

describe('Notion verification tokens', () => {
  it('before the operator pins: self-made tokens, and events signed with them, are refused; the real token stays listed', async () => {
    const real = newToken();
    expect(await postToken(real)).toEqual({ status: 200, outcome: 'verification_token_received' });
    const forged = Array.from({ length: 8 }, newToken);
    for (const token of forged) expect((await postToken(token)).status).toBe(200);
    for (const token of [forged.at(-1) ?? '', real]) expect((await post(event(), token)).status).toBe(401);
    const listed = await listedSince(start);
    expect(listed).toContain(real);
    // Newest first: the operator sees the latest posts at the top, and the real one further down.
    expect(listed.indexOf(forged.at(-1) ?? '')).toBeLessThan(listed.indexOf(real));
  });

  it('once pinned: only the pinned token verifies events, whatever is posted afterwards', async () => {
    const real = newToken();
    await postToken(real);
    expect(await pinToken('notion', real)).toMatchObject({ token: real });
    for (const forged of [newToken(), newToken()]) {
      expect((await postToken(forged)).status).toBe(200);
      expect((await post(event(), forged)).status).toBe(401);
    }
    expect(await post(event(), real)).toEqual({ status: 200, outcome: 'unrouted' });
    expect((await post({ not: 'an event' }, real)).status).toBe(400);
    expect((await post(event())).status).toBe(401);
  });

  it('pins only a token the webhook received and that has not expired', async () => {
    expect(await pinToken('notion', newToken())).toBeUndefined();
    const stale = newToken();
    await recordTokenCandidate('notion', stale, new Date(Date.now() - (CANDIDATE_TTL_SECONDS + 60) * 1000));
    expect(await pinToken('notion', stale)).toBeUndefined();
    expect((await post(event(), stale)).status).toBe(401);
  });

  it('a verification post is kept whatever its signature (it cannot prove where it came from)', async () => {
    const unsigned = newToken();
    expect((await post({ verification_token: unsigned })).status).toBe(200);
    expect(await listedSince(start)).toContain(unsigned);
  });

  it('a token that is not one word of printable ASCII is a 400 and kept nowhere (the operator’s terminal lists tokens)', async () => {
    const crafted = ['secret_a\u001b[8m', 'secret_a\n2026-01-01T00:00:00.000Z secret_forged', 'secret a', 'secret_é', ''];
    expect(await Promise.all(crafted.map((token) => post({ verification_token: token })))).toEqual(crafted.map(() => ({ status: 400, outcome: 'validation_failed' })));
    expect((await post({ verification_token: 42 })).status).toBe(400);
    const listed = await listedSince(start);
    for (const token of crafted) expect(listed).not.toContain(token);
  });

  it('parallel posts all succeed and are all listed (3 rounds of 40)', async () => {
    for (let round = 0; round < 3; round += 1) {
      const tokens = Array.from({ length: 40 }, newToken);
      const outcomes = await Promise.allSettled(tokens.map(postToken));
      expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.status : String(outcome.reason)))).toEqual(tokens.map(() => 200));
      expect(await listedSince(start)).toEqual(expect.arrayContaining(tokens));
    }
  });
});
