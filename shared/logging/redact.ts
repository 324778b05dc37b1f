/**
 * Secrets must never reach a log line. Two nets: values under a sensitive key
 * are replaced whole, and any string that looks like a credential is masked
 * wherever it appears: JWTs and Bearer/Basic headers here, each provider's
 * own token shapes as its definition declares them (the provider registry
 * adds them when it loads, and only code that loaded it ever holds a
 * provider token).
 */
export const REDACTED = '[REDACTED]';

const SENSITIVE_KEY =
  /(token|secret|password|passphrase|verifier|authorization|cookie|credential|signature|api_?key|private_?key|encryption_?key|^code$|^state$|^challenge$)/i;

/** Provider token shapes, applied first (before the generic shapes below, which would swallow a `Bearer <token>` whole). */
const PROVIDER_PATTERNS: RegExp[] = [];

const GENERIC_PATTERNS: readonly RegExp[] = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWTs (Microsoft access tokens, id tokens)
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
];

/** Adds token shapes to mask (each a global regex); adding one twice is harmless. */
export function addCredentialPatterns(patterns: readonly RegExp[]): void {
  for (const pattern of patterns) {
    if (!pattern.global) throw new Error(`Credential pattern ${pattern} must be global`);
    if (!PROVIDER_PATTERNS.some((known) => known.source === pattern.source && known.flags === pattern.flags)) PROVIDER_PATTERNS.push(pattern);
  }
}

export function redactString(value: string): string {
  return [...PROVIDER_PATTERNS, ...GENERIC_PATTERNS].reduce((text, pattern) => text.replace(pattern, REDACTED), value);
}

/** A JSON.stringify replacer: sensitive keys lose their value, strings lose anything credential-shaped. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && SENSITIVE_KEY.test(key) && value !== undefined && value !== null && typeof value !== 'boolean') {
    return REDACTED;
  }
  return typeof value === 'string' ? redactString(value) : value;
}
