import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { ConfigError, parseEnv } from '../config';
import { InvalidCursorError } from '../domain/errors';
import { secretOnce } from '../secrets-manager';

/**
 * Pagination cursors are authenticated, not trusted for their shape: a cursor
 * is base64url of a version byte, a 128-bit tag and its content (JSON, e.g.
 * DynamoDB's last evaluated key). The tag is HMAC-SHA256 under a server key
 * over the content *and* the binding: what the cursor continues (the query's
 * table, index, key condition, expression values with the organisation's
 * partition, scan direction; the export and its section). So a cursor the
 * server did not issue, or issued for another caller, integration, resource
 * or route, fails the tag check and is an `InvalidCursorError` (400
 * bad_request) before anything reaches DynamoDB.
 */
const VERSION = 1;
const TAG_BYTES = 16;
/** Issued cursors are a few hundred characters; DynamoDB's largest keys (2 KB + 1 KB) still fit. */
export const MAX_CURSOR_CHARS = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

// --- the key ---------------------------------------------------------------

const MIN_KEY_CHARS = 32;

/** Where the key comes from: the variable itself (tests, local runtime), else the secret (AWS). */
const cursorKeySourceSchema = z
  .object({
    CURSOR_SIGNING_KEY: z.string().min(MIN_KEY_CHARS, `must be at least ${MIN_KEY_CHARS} characters`).optional(),
    CURSOR_KEY_SECRET_ARN: z.string().startsWith('arn:', 'must be a Secrets Manager secret ARN').optional(),
  })
  .transform((env, context): { key: string } | { secretArn: string } => {
    if (env.CURSOR_SIGNING_KEY !== undefined) return { key: env.CURSOR_SIGNING_KEY };
    if (env.CURSOR_KEY_SECRET_ARN !== undefined) return { secretArn: env.CURSOR_KEY_SECRET_ARN };
    context.addIssue({
      code: 'custom',
      path: ['CURSOR_SIGNING_KEY'],
      message: `must be set (at least ${MIN_KEY_CHARS} characters), or CURSOR_KEY_SECRET_ARN must name the secret that holds the key`,
    });
    return z.NEVER;
  });

const keyFromSecret = secretOnce((secretString) => {
  if (secretString.length < MIN_KEY_CHARS) {
    throw new ConfigError(`Invalid secret: the one CURSOR_KEY_SECRET_ARN names must hold the cursor key (at least ${MIN_KEY_CHARS} characters)`);
  }
  return Buffer.from(secretString, 'utf8');
});

let signingKey: Buffer | undefined;

/** The server's cursor key, resolved on first use (a missing one fails then, naming the variable). */
async function cursorKey(): Promise<Buffer> {
  if (signingKey) return signingKey;
  const source = parseEnv(cursorKeySourceSchema, {
    CURSOR_SIGNING_KEY: process.env.CURSOR_SIGNING_KEY || undefined,
    CURSOR_KEY_SECRET_ARN: process.env.CURSOR_KEY_SECRET_ARN || undefined,
  });
  signingKey = 'key' in source ? Buffer.from(source.key, 'utf8') : await keyFromSecret(source.secretArn);
  return signingKey;
}

// --- sealing and opening ------------------------------------------------------

/** JSON with object keys sorted, so a binding's tag does not depend on how its object was built. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number' && Number.isFinite(value)) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  throw new TypeError(`A cursor binding holds only JSON values, not ${typeof value}`);
}

function tag(key: Buffer, binding: unknown, content: Buffer): Buffer {
  // NUL separates the parts: canonical JSON never contains one unescaped.
  return createHmac('sha256', key)
    .update(`hr-integrations/cursor/v${VERSION}\0${canonicalJson(binding)}\0`)
    .update(content)
    .digest()
    .subarray(0, TAG_BYTES);
}

/** A cursor that continues `binding` at `content`. */
export async function sealCursor(binding: unknown, content: unknown): Promise<string> {
  const contentBytes = Buffer.from(JSON.stringify(content), 'utf8');
  return Buffer.concat([Buffer.from([VERSION]), tag(await cursorKey(), binding, contentBytes), contentBytes]).toString('base64url');
}

/** The content of a cursor this server sealed for `binding`, parsed by `schema`; anything else is an InvalidCursorError. */
export async function openCursor<T>(binding: unknown, cursor: string, schema: z.ZodType<T>): Promise<T> {
  if (cursor.length > MAX_CURSOR_CHARS || !BASE64URL.test(cursor)) throw new InvalidCursorError();
  const bytes = Buffer.from(cursor, 'base64url');
  // One spelling per cursor: a string that decodes to the same bytes through unused bits is not the one issued.
  if (bytes.length <= 1 + TAG_BYTES || bytes[0] !== VERSION || bytes.toString('base64url') !== cursor) throw new InvalidCursorError();
  const contentBytes = bytes.subarray(1 + TAG_BYTES);
  if (!timingSafeEqual(bytes.subarray(1, 1 + TAG_BYTES), tag(await cursorKey(), binding, contentBytes))) throw new InvalidCursorError();
  let content: unknown;
  try {
    content = JSON.parse(contentBytes.toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  // The tag proves the server wrote it; the schema keeps the type honest all the same.
  const parsed = schema.safeParse(content);
  if (!parsed.success) throw new InvalidCursorError();
  return parsed.data;
}

/** A DynamoDB key as a cursor carries it (the document client's string and number attributes). */
export const itemKeySchema = z.record(z.string(), z.union([z.string(), z.number()]));
