import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Random and derived identifiers of the sandbox. Secrets (codes, tokens) are
 * random; identities (users, teams, tenants) are derived from the account so
 * the same account always maps to the same ids, across restarts too.
 */

export const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const LOWER_HEX = '0123456789abcdef';
/** Google Calendar event ids use base32hex (lower case). */
export const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

export const randomB64url = (bytes: number): string => randomBytes(bytes).toString('base64url');
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');
export const randomId = (): string => randomUUID();

export function randomChars(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet.charAt(randomInt(alphabet.length));
  return out;
}

export function randomDigits(length: number): string {
  return randomChars(length, '0123456789');
}

export const sha256 = (input: string): Buffer => createHash('sha256').update(input, 'utf8').digest();

/** The key under which a secret is stored: its SHA-256, never the secret itself. */
export const secretKey = (secret: string): string => sha256(secret).toString('hex');

/** `length` characters of `alphabet` derived from `seed` (stable across runs). */
export function stableChars(seed: string, length: number, alphabet: string): string {
  let out = '';
  let block = 0;
  while (out.length < length) {
    const digest = sha256(`${seed}#${block}`);
    for (const byte of digest) {
      if (out.length >= length) break;
      out += alphabet.charAt(byte % alphabet.length);
    }
    block += 1;
  }
  return out;
}

export function stableDigits(seed: string, length: number): string {
  return stableChars(seed, length, '0123456789');
}

/** A name-based UUID (version 5 layout over SHA-256) derived from `seed`. */
export function stableUuid(seed: string): string {
  const bytes = Buffer.from(sha256(seed).subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

// --- PKCE (RFC 7636) ---

export type PkceMethod = 'S256' | 'plain';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
export const isValidVerifier = (verifier: string): boolean => /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier);

/** RFC 7636 §4.2: S256 challenges are 43 base64url characters; plain ones follow the verifier's rule. */
export function isValidChallenge(challenge: string, method: PkceMethod): boolean {
  return method === 'S256' ? /^[A-Za-z0-9\-_]{43}$/.test(challenge) : isValidVerifier(challenge);
}

export function pkceMatches(verifier: string, challenge: string, method: PkceMethod): boolean {
  if (!isValidVerifier(verifier)) return false;
  const computed = method === 'S256' ? sha256(verifier).toString('base64url') : verifier;
  return safeEqual(computed, challenge);
}

// --- JWT-looking strings ---

const b64urlJson = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/**
 * A string shaped like a signed JWT (`header.payload.signature`) whose
 * signature is random bytes: it reads like the real thing, and it is
 * unguessable, but nothing can verify it. The sandbox looks tokens up by value.
 */
export function jwtLooking(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${b64urlJson(header)}.${b64urlJson(payload)}.${randomB64url(256)}`;
}

export const epochSeconds = (ms: number): number => Math.floor(ms / 1000);
