/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): a per-endpoint
 * secret `whsec_<base64 of 32 random bytes>`, and per attempt the headers
 * `webhook-id`, `webhook-timestamp` (epoch seconds) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`). The signature comes from
 * `standardwebhooks`, the spec authors' own library: the same code the
 * receivers' verifiers are written against, small, pure JavaScript (it bundles
 * with esbuild and runs on Node 22 without native parts).
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export const newSigningSecret = (): string => `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signedHeaders(secret: string, messageId: string, at: Date, body: string): SignedHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
  };
}
