/**
 * Secrets must never reach a log line. Two nets: values under a sensitive key
 * are replaced whole, and any string that looks like a credential (Slack,
 * Google, Microsoft tokens, JWTs, bearer headers) is masked wherever it appears.
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEY =
  /(token|secret|password|passphrase|verifier|authorization|cookie|credential|signature|api_?key|private_?key|encryption_?key|^code$|^state$|^challenge$)/i;

const CREDENTIAL_PATTERNS: RegExp[] = [
  /xox[abeoprs]-[A-Za-z0-9-]+/g, // Slack bot/user/refresh/config tokens
  /xapp-[A-Za-z0-9-]+/g,
  /ya29\.[A-Za-z0-9._-]+/g, // Google access tokens
  /1\/\/[A-Za-z0-9._-]{20,}/g, // Google refresh tokens
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWTs (Microsoft access tokens, id tokens)
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

export function redactString(value: string): string {
  return CREDENTIAL_PATTERNS.reduce((text, pattern) => text.replace(pattern, REDACTED), value);
}

/** A JSON.stringify replacer: sensitive keys lose their value, strings lose anything credential-shaped. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SENSITIVE_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'boolean') {
    return REDACTED;
  }
  return typeof value === 'string' ? redactString(value) : value;
}
