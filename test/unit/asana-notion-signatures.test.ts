import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { asanaSignatureMatches } from '../../shared/providers/asana/webhook';
import { notionSignatureMatches } from '../../shared/providers/notion/webhook';

/**
 * Webhook signature checks against the protocol notes' vectors: Notion's
 * (inputs from notion-sdk-js's own test, HMAC computed independently) and
 * Asana's handshake secret sample from its reference (Asana publishes no
 * signature vector, so the expected value is computed here by hand).
 */
describe('Notion X-Notion-Signature', () => {
  const token = 'secret_abc123_verification_token';
  const body = Buffer.from('{"id":"evt_1","type":"page.created"}');
  const vector = 'sha256=942ac06e288d4872c2c3944cb92793dabf59e7b005dab9c6f883aff7132c686c';

  it('accepts the vector', () => {
    expect(notionSignatureMatches(body, token, vector)).toBe(true);
  });

  it.each([
    ['another body', Buffer.from('{"id":"evt_1","type":"page.created" }'), token, vector],
    ['another token', body, `${token}x`, vector],
    ['no prefix', body, token, vector.slice('sha256='.length)],
    ['upper-case hex', body, token, vector.toUpperCase().replace('SHA256=', 'sha256=')],
    ['short', body, token, vector.slice(0, -2)],
    ['missing', body, token, undefined],
  ])('refuses %s', (_case, raw, key, header) => {
    expect(notionSignatureMatches(raw, key, header)).toBe(false);
  });
});

describe('Asana X-Hook-Signature', () => {
  const secret = 'b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81';
  const body = Buffer.from('{"events":[{"action":"changed","resource":{"gid":"8675309","resource_type":"task"}}]}');
  const signature = createHmac('sha256', secret).update(body).digest('hex');

  it('accepts the hex HMAC-SHA256 of the raw body under the handshake secret', () => {
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(asanaSignatureMatches(body, secret, signature)).toBe(true);
  });

  it.each([
    ['a changed body', Buffer.from(body.toString().replace('changed', 'deleted')), signature],
    ['a signature of another length', body, signature.slice(0, 62)],
    ['a non-hex signature', body, 'z'.repeat(64)],
    ['no signature', body, undefined],
  ])('refuses %s', (_case, raw, header) => {
    expect(asanaSignatureMatches(raw, secret, header)).toBe(false);
  });
});
