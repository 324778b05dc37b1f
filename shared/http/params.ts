/**
 * Query and body parameters that several routes share, parsed at the edge.
 */
import * as z from 'zod';

/**
 * The `cursor` query parameter, taken as it comes (a string). Its length and content are the
 * cursor's own checks (store/cursor.ts), so an oversized cursor is a 400
 * bad_request like every other cursor the server did not issue.
 */
export const cursorParam = z.string().optional();

/** The one-time id the OAuth callback hands the app: 256 random bits, base64url. */
export const pendingGrantIdParam = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the pending id the callback returned');
