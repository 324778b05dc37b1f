import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * An independent receiver-side check of the Standard Webhooks specification
 * (https://www.standardwebhooks.com), written from the spec with node:crypto,
 * not with the `standardwebhooks` library the service signs with: the
 * secret is `whsec_` + base64 key bytes; the signed content is
 * `<webhook-id>.<webhook-timestamp>.<raw body>`; `webhook-signature` is a
 * space-separated list of `v1,<base64 HMAC-SHA256>`, any of which may match;
 * the timestamp must lie within the tolerance of the receiver's clock.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string, receiverNow: Date, toleranceSeconds = 300): { id: string; timestamp: number } {
  const single = (name: string) => {
    const value = headers[name];
    if (typeof value !== 'string' || value === '') throw new Error(`missing ${name}`);
    return value;
  };
  const id = single('webhook-id');
  const timestampText = single('webhook-timestamp');
  if (!/^\d+$/.test(timestampText)) throw new Error('webhook-timestamp is not epoch seconds');
  const timestamp = Number(timestampText);
  if (Math.abs(receiverNow.getTime() / 1000 - timestamp) > toleranceSeconds) throw new Error('webhook-timestamp outside the tolerance');
  if (!secret.startsWith('whsec_')) throw new Error('not a whsec_ secret');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestampText}.${body}`).digest();
  const matches = single('webhook-signature')
    .split(' ')
    .some((candidate) => {
      const [version, signature] = candidate.split(',');
      if (version !== 'v1' || signature === undefined) return false;
      const given = Buffer.from(signature, 'base64');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  if (!matches) throw new Error('no v1 signature matches');
  return { id, timestamp };
}
