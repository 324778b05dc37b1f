import { createHash, randomBytes } from 'node:crypto';

/** PKCE (RFC 7636): a 256-bit verifier, its S256 challenge. */
export const createCodeVerifier = (): string => randomBytes(32).toString('base64url');

export const s256Challenge = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');
