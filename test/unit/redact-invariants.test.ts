import { describe, expect, it } from 'vitest';
// Provider token shapes are declared by the providers and registered by the registry when it loads.
import '../../shared/providers/registry';
import { REDACTED, redactString, redactingReplacer } from '../../shared/logging/redact';

/**
 * The redactor's two nets, pinned exactly: which keys lose their value (and
 * which look alike but are ordinary), and the whole extent of each
 * credential shape it masks in free text.
 */
const stringify = (value: unknown) => JSON.stringify(value, redactingReplacer);

describe('sensitive keys', () => {
  it.each([
    'token',
    'accessToken',
    'REFRESH_TOKEN',
    'clientSecret',
    'password',
    'passphrase',
    'codeVerifier',
    'Authorization',
    'cookie',
    'credentials',
    'x-slack-signature',
    'apiKey',
    'api_key',
    'apikey',
    'privateKey',
    'private_key',
    'privatekey',
    'encryptionKey',
    'encryption_key',
    'encryptionkey',
    'code',
    'CODE',
    'state',
    'challenge',
  ])('%s loses its value', (key) => {
    expect(stringify({ [key]: 'opaque-value' })).toBe(`{"${key}":"${REDACTED}"}`);
  });

  it.each(['codes', 'zipcode', 'postCode', 'codeCount', 'statement', 'resourceState', 'stateReason', 'challenges', 'subchallenge', 'key', 'apiVersion', 'status'])(
    '%s is an ordinary key',
    (key) => {
      expect(stringify({ [key]: 'plain-value' })).toBe(`{"${key}":"plain-value"}`);
    },
  );

  it('redacts numbers and objects under a sensitive key, keeps booleans, null and undefined as they are', () => {
    expect(stringify({ code: 1234 })).toBe(`{"code":"${REDACTED}"}`);
    expect(stringify({ credentials: { user: 'u', pass: 'p' } })).toBe(`{"credentials":"${REDACTED}"}`);
    expect(stringify({ hasToken: true, secretSet: false })).toBe('{"hasToken":true,"secretSet":false}');
    expect(stringify({ token: null })).toBe('{"token":null}');
    expect(stringify({ token: undefined, other: 1 })).toBe('{"other":1}');
  });

  it('the root value is never replaced whole, only masked', () => {
    expect(redactingReplacer('', 'plain')).toBe('plain');
    expect(redactingReplacer('', { token: 'x' })).toEqual({ token: 'x' });
    expect(redactingReplacer('', 'xoxb-123-abc')).toBe(REDACTED);
    expect(redactingReplacer('message', 42)).toBe(42);
  });
});

describe('credential shapes in free text (each masked whole, nothing else touched)', () => {
  const tokenBody = 'AZaz09-AZaz09';
  it.each([
    ...[...'abeoprs'].map((kind) => [`Slack xox${kind} token`, `xox${kind}-${tokenBody}`]),
    ['Slack app token', `xapp-${tokenBody}`],
    ['Google access token', 'ya29.AZaz09._-AZaz09'],
    ['Google refresh token', '1//AZaz09._-AZaz09._-AZaz'],
    ['JWT', 'eyJAZaz09_-.AZaz09_-AZ.AZaz09_-'],
    ['JWT without a signature', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
    ['bearer header', 'Bearer AZaz09._~+/=-'],
    ['basic header', 'Basic dXNlcjpwYXNzd29yZA=='],
    ['lower-case bearer', 'bearer abcdefgh'],
    ['bearer with several spaces', 'Bearer   abcdefgh'],
  ])('%s', (_label, credential) => {
    expect(redactString(`before ${credential} after`)).toBe(`before ${REDACTED} after`);
    expect(redactString(credential)).toBe(REDACTED);
  });

  it('masks every occurrence, not only the first', () => {
    expect(redactString('xoxb-1 and xoxp-2 and ya29.x and ya29.y')).toBe(`${REDACTED} and ${REDACTED} and ${REDACTED} and ${REDACTED}`);
    expect(redactString('Bearer abcdefgh Bearer ijklmnop')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it.each([
    ['an unknown Slack prefix', 'xoxz-1234567890'],
    ['xox without a dash', 'xoxb1234'],
    ['a bare xapp-', 'xapp-'],
    ['a bare ya29.', 'ya29.'],
    ['a short Google refresh-like path', '1//abcdefghij'],
    ['19 characters after 1//', `1//${'a'.repeat(19)}`],
    ['a short JWT-like string', 'eyJabcdefg.abcdefgh.sig'],
    ['a JWT-like string with a short payload', 'eyJabcdefgh.abcdefg.sig'],
    ['a bearer with a 7-character value', 'Bearer abcdefg'],
    ['Bearer without a space', 'Bearerabcdefghij'],
    ['a word ending in bearer', 'Sunbearer abcdefghij'],
    ['an ordinary sentence', 'integration int_01JD3X8Q9W7T5V4N2M1K0H8G6F synced 42 records'],
  ])('leaves %s alone', (_label, text) => {
    expect(redactString(text)).toBe(text);
  });

  it('masks exactly 20 characters after 1// and 8 after the JWT header', () => {
    expect(redactString(`1//${'a'.repeat(20)}`)).toBe(REDACTED);
    expect(redactString('eyJabcdefgh.abcdefgh.')).toBe(REDACTED);
    expect(redactString('Bearer abcdefgh')).toBe(REDACTED);
  });

  it('stops at characters outside each credential alphabet', () => {
    expect(redactString('xoxb-abc.def')).toBe(`${REDACTED}.def`);
    expect(redactString('xapp-abc.def')).toBe(`${REDACTED}.def`);
    expect(redactString('ya29.abc!def')).toBe(`${REDACTED}!def`);
    expect(redactString(`1//${'a'.repeat(20)}!x`)).toBe(`${REDACTED}!x`);
    expect(redactString('eyJabcdefgh.abcdefgh.sig!x')).toBe(`${REDACTED}!x`);
    expect(redactString('Bearer abcdefgh!x')).toBe(`${REDACTED}!x`);
  });
});
