import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../shared/logging/logger';
// Provider token shapes are declared by the providers and registered by the registry when it loads.
import '../../shared/providers/registry';
import { REDACTED, redactString } from '../../shared/logging/redact';

const secrets = {
  slackBot: 'xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy',
  slackRefresh: 'xoxe-1-My0xLTE3NjUzNjcyNDgxLTE5ODc0Njk4MzIzLWE',
  google: 'ya29.a0AfH6SMBx-example-google-access-token',
  googleRefresh: '1//0gLZ8nT2exampleGoogleRefreshTokenValue',
  jwt: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl',
  verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  code: '4/0AX4XfWexampleAuthorizationCode',
};

afterEach(() => vi.restoreAllMocks());

function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ['info', 'warn', 'error', 'debug', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    });
  }
  return lines;
}

describe('log redaction', () => {
  it('hides values under sensitive keys, at any depth', () => {
    const lines = captureLogs();
    logger.info('token exchange', {
      access_token: 'opaque-value-1',
      refreshToken: 'opaque-value-2',
      client_secret: 'opaque-value-3',
      code_verifier: secrets.verifier,
      code: secrets.code,
      state: 'opaque-state-value',
      response: { authed_user: { access_token: 'opaque-value-4' } },
      headers: { authorization: 'Bearer opaque-value-5' },
    });
    const output = lines.join('\n');
    for (const value of ['opaque-value-1', 'opaque-value-2', 'opaque-value-3', 'opaque-value-4', 'opaque-value-5', 'opaque-state-value', secrets.verifier, secrets.code]) {
      expect(output).not.toContain(value);
    }
    expect(output).toContain(REDACTED);
  });

  it('masks credential-shaped strings anywhere, including messages and errors', () => {
    const lines = captureLogs();
    logger.error(`refresh failed for ${secrets.slackBot}`, {
      detail: `body was ${secrets.google} and ${secrets.googleRefresh}`,
      error: new Error(`provider echoed ${secrets.jwt} / ${secrets.slackRefresh}`),
    });
    const output = lines.join('\n');
    for (const value of Object.values(secrets).filter((v) => v !== secrets.verifier && v !== secrets.code)) {
      expect(output).not.toContain(value);
    }
    expect(output).toContain('refresh failed for [REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    expect(redactString('integration int_01JD3X8Q9W7T5V4N2M1K0H8G6F synced 42 records')).toBe(
      'integration int_01JD3X8Q9W7T5V4N2M1K0H8G6F synced 42 records',
    );
  });
});
