import { describe, expect, it } from 'vitest';
import { createCodeVerifier, s256Challenge } from '../../shared/oauth/pkce';

describe('PKCE', () => {
  it('matches RFC 7636 Appendix B', () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes 43-character verifiers from 256 random bits, never twice the same', () => {
    const verifiers = new Set(Array.from({ length: 100 }, createCodeVerifier));
    expect(verifiers.size).toBe(100);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
