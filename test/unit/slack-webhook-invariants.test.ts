import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config';
import {
  SANDBOX_SLACK_SIGNING_SECRET,
  SLACK_REPLAY_WINDOW_SECONDS,
  interpretSlackEvent,
  slackEnvelopeSchema,
  slackSignature,
  slackSigningSecret,
  verifySlackRequest,
} from '../../shared/providers/slack/webhook';

/**
 * Security invariants of Slack request verification that the mutation run
 * found unpinned: where the signing secret comes from (never the public
 * sandbox secret outside the local runtime), the exact shape of the signed
 * headers, and what each event means.
 */
const ENV_NAMES = ['SLACK_SIGNING_SECRET', 'SLACK_CLIENT_ID', 'SANDBOX_BASE_URL'] as const;
let saved: Record<string, string | undefined>;

beforeEach(() => {
  saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
  for (const name of ENV_NAMES) delete process.env[name];
});
afterEach(() => {
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const setEnv = (values: Partial<Record<(typeof ENV_NAMES)[number], string>>) => Object.assign(process.env, values);

describe('slackSigningSecret: the public sandbox secret only where the local runtime serves the sandbox', () => {
  it('is undefined with no SLACK_SIGNING_SECRET and no SANDBOX_BASE_URL (AWS without the secret: events refused)', () => {
    expect(slackSigningSecret()).toBeUndefined();
  });

  it('is undefined when SANDBOX_BASE_URL is set but the real Slack app is configured (SLACK_CLIENT_ID)', () => {
    setEnv({ SANDBOX_BASE_URL: 'http://127.0.0.1:3000/sandbox', SLACK_CLIENT_ID: '1234.5678' });
    expect(slackSigningSecret()).toBeUndefined();
  });

  it('is undefined with SLACK_CLIENT_ID alone', () => {
    setEnv({ SLACK_CLIENT_ID: '1234.5678' });
    expect(slackSigningSecret()).toBeUndefined();
  });

  it("is the sandbox's secret when the local runtime serves Slack's sandbox", () => {
    setEnv({ SANDBOX_BASE_URL: 'http://127.0.0.1:3000/sandbox' });
    const secret = slackSigningSecret();
    expect(secret).toBe(SANDBOX_SLACK_SIGNING_SECRET);
    expect(secret).toMatch(/^.{8,}$/);
  });

  it('treats empty variables as unset', () => {
    setEnv({ SANDBOX_BASE_URL: '' });
    expect(slackSigningSecret()).toBeUndefined();
    setEnv({ SANDBOX_BASE_URL: 'http://127.0.0.1:3000/sandbox', SLACK_CLIENT_ID: '', SLACK_SIGNING_SECRET: '' });
    expect(slackSigningSecret()).toBe(SANDBOX_SLACK_SIGNING_SECRET);
  });

  it('is SLACK_SIGNING_SECRET whenever it is set, sandbox or not', () => {
    const real = 'a-real-signing-secret-0123456789abcdef';
    setEnv({ SLACK_SIGNING_SECRET: real });
    expect(slackSigningSecret()).toBe(real);
    setEnv({ SANDBOX_BASE_URL: 'http://127.0.0.1:3000/sandbox' });
    expect(slackSigningSecret()).toBe(real);
    setEnv({ SLACK_CLIENT_ID: '1234.5678' });
    expect(slackSigningSecret()).toBe(real);
  });

  it('accepts an 8-character secret and refuses a shorter one with the variable named', () => {
    setEnv({ SLACK_SIGNING_SECRET: '12345678' });
    expect(slackSigningSecret()).toBe('12345678');
    setEnv({ SLACK_SIGNING_SECRET: '1234567' });
    expect(() => slackSigningSecret()).toThrow(ConfigError);
    expect(() => slackSigningSecret()).toThrow(/SLACK_SIGNING_SECRET/);
  });
});

describe('verifySlackRequest: exact header shapes', () => {
  const secret = 'test-signing-secret-0123456789';
  const body = Buffer.from('{"type":"event_callback"}');
  const now = 1_700_000_000;
  const signed = (timestamp: string) => ({ signingSecret: secret, timestamp, signature: slackSignature(secret, timestamp, body), rawBody: body });

  it('accepts a correctly signed request at the current time (real clock)', () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    expect(verifySlackRequest(signed(timestamp))).toBe(true);
    expect(verifySlackRequest({ ...signed(timestamp), nowSeconds: Number(timestamp) + SLACK_REPLAY_WINDOW_SECONDS })).toBe(true);
    expect(verifySlackRequest({ ...signed(timestamp), nowSeconds: Number(timestamp) + SLACK_REPLAY_WINDOW_SECONDS + 1 })).toBe(false);
  });

  // Each timestamp below is signed with the right secret: only the timestamp's format may refuse it.
  it.each([
    ['a letter before the digits (NaN would slip through the window check)', `x${now}`],
    ['a letter after the digits', `${now}x`],
    ['a trailing newline (Number() would trim it)', `${now}\n`],
    ['a leading space', ` ${now}`],
    ['a fraction', `${now}.5`],
    ['an exponent', '17e8'],
    ['a sign', `+${now}`],
    ['13 digits (leading zeros)', `000${now}`],
    ['hexadecimal', '0x6553f100'],
    ['an empty string', ''],
  ])('refuses a signed request whose timestamp has %s', (_label, timestamp) => {
    expect(verifySlackRequest({ ...signed(timestamp), nowSeconds: now })).toBe(false);
  });

  it('accepts timestamps of 1 and of 12 digits (the documented bounds)', () => {
    expect(verifySlackRequest({ ...signed('5'), nowSeconds: 5 })).toBe(true);
    expect(verifySlackRequest({ ...signed('999999999999'), nowSeconds: 999_999_999_999 })).toBe(true);
    expect(verifySlackRequest({ ...signed('001700000000'), nowSeconds: now })).toBe(true);
  });

  it.each([
    ['a prefix before v0=', (good: string) => `x${good}`],
    ['a suffix after the digest', (good: string) => `${good}0`],
    ['a trailing newline', (good: string) => `${good}\n`],
    ['upper-case hex', (good: string) => good.toUpperCase().replace('V0=', 'v0=')],
    ['a truncated digest', (good: string) => good.slice(0, -1)],
    ['another version', (good: string) => good.replace('v0=', 'v1=')],
    ['no version', (good: string) => good.slice(3)],
    ['a multi-byte character appended', (good: string) => `${good}é`],
  ])('refuses (false, never a throw) a signature with %s', (_label, change) => {
    const request = signed(String(now));
    const verify = () => verifySlackRequest({ ...request, signature: change(request.signature), nowSeconds: now });
    expect(verify).not.toThrow();
    expect(verify()).toBe(false);
  });

  it('the signature is v0= and the lower-case hex HMAC-SHA256 of v0:<timestamp>:<body>', () => {
    expect(slackSignature(secret, '1', Buffer.from('b'))).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(slackSignature(secret, '1', Buffer.from('b'))).not.toBe(slackSignature(secret, '2', Buffer.from('b')));
  });
});

describe('the Slack envelope', () => {
  const callback = { type: 'event_callback', team_id: 'T1', event_id: 'Ev1', event: { type: 'message' } };

  it('accepts the three envelopes it knows and keeps their fields', () => {
    expect(slackEnvelopeSchema.parse({ type: 'url_verification', challenge: 'ch' })).toEqual({ type: 'url_verification', challenge: 'ch' });
    expect(slackEnvelopeSchema.parse({ ...callback, api_app_id: 'A1', event_time: 5, extra: 1 })).toEqual({
      ...callback,
      api_app_id: 'A1',
      event_time: 5,
      extra: 1,
    });
    expect(slackEnvelopeSchema.parse({ type: 'app_rate_limited', team_id: 'T1', minute_rate_limited: 1 })).toMatchObject({ type: 'app_rate_limited' });
    expect(slackEnvelopeSchema.safeParse({ type: 'app_rate_limited' }).success).toBe(true);
  });

  it('bounds the challenge to 1..512 characters', () => {
    for (const length of [1, 2, 512]) expect(slackEnvelopeSchema.safeParse({ type: 'url_verification', challenge: 'c'.repeat(length) }).success).toBe(true);
    for (const length of [0, 513]) expect(slackEnvelopeSchema.safeParse({ type: 'url_verification', challenge: 'c'.repeat(length) }).success).toBe(false);
  });

  it('bounds the event id to 1..128 characters and requires the team and an event type', () => {
    for (const length of [1, 2, 128]) expect(slackEnvelopeSchema.safeParse({ ...callback, event_id: 'e'.repeat(length) }).success).toBe(true);
    for (const length of [0, 129]) expect(slackEnvelopeSchema.safeParse({ ...callback, event_id: 'e'.repeat(length) }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ ...callback, team_id: 'TT' }).success).toBe(true);
    expect(slackEnvelopeSchema.safeParse({ ...callback, team_id: '' }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ ...callback, event: { type: 'xy' } }).success).toBe(true);
    expect(slackEnvelopeSchema.safeParse({ ...callback, event: { type: '' } }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ ...callback, event: { type: 'message', ts: '1' } }).data).toMatchObject({ event: { ts: '1' } });
  });

  it('refuses unknown envelope types and mistyped optional fields', () => {
    expect(slackEnvelopeSchema.safeParse({ type: 'block_actions' }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ ...callback, api_app_id: 1 }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ ...callback, event_time: '5' }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ type: 'app_rate_limited', team_id: 5 }).success).toBe(false);
    expect(slackEnvelopeSchema.safeParse({ type: 'url_verification', challenge: 'c', extra: 1 }).data).toEqual({ type: 'url_verification', challenge: 'c' });
  });
});

describe('what a Slack event means', () => {
  it('a message: every field normalized, absent ones null', () => {
    expect(interpretSlackEvent({ type: 'message', channel: 'C1', user: 'U1', text: 'hi', ts: '1.2', subtype: 'bot_message', channel_type: 'channel' })).toEqual({
      kind: 'data',
      normalizedType: 'message.created',
      data: { channelId: 'C1', userId: 'U1', text: 'hi', ts: '1.2', subtype: 'bot_message', channelType: 'channel' },
    });
    expect(interpretSlackEvent({ type: 'message', channel: 'C1', ts: '1.2' })).toEqual({
      kind: 'data',
      normalizedType: 'message.created',
      data: { channelId: 'C1', userId: null, text: '', ts: '1.2', subtype: null, channelType: null },
    });
  });

  it.each([
    ['a message without a channel', { type: 'message', ts: '1' }],
    ['a message without ts', { type: 'message', channel: 'C1' }],
    ['a message with a numeric user', { type: 'message', channel: 'C1', ts: '1', user: 1 }],
    ['a message with a numeric text', { type: 'message', channel: 'C1', ts: '1', text: 1 }],
    ['a message with a numeric subtype', { type: 'message', channel: 'C1', ts: '1', subtype: 1 }],
    ['a message with a numeric channel_type', { type: 'message', channel: 'C1', ts: '1', channel_type: 1 }],
    ['a channel_created without a name', { type: 'channel_created', channel: { id: 'C1' } }],
    ['a channel_created without an id', { type: 'channel_created', channel: { name: 'n' } }],
    ['a channel_created with a string created', { type: 'channel_created', channel: { id: 'C1', name: 'n', created: '1' } }],
    ['a channel_created with a numeric creator', { type: 'channel_created', channel: { id: 'C1', name: 'n', creator: 1 } }],
    ['a member_joined_channel without a user', { type: 'member_joined_channel', channel: 'C1' }],
    ['a member_joined_channel without a channel', { type: 'member_joined_channel', user: 'U1' }],
    ['a member_joined_channel with a numeric channel_type', { type: 'member_joined_channel', user: 'U1', channel: 'C1', channel_type: 1 }],
    ['a tokens_revoked without tokens', { type: 'tokens_revoked' }],
    ['a tokens_revoked with a non-array bot list', { type: 'tokens_revoked', tokens: { bot: 'U1' } }],
    ['a tokens_revoked with a non-array oauth list', { type: 'tokens_revoked', tokens: { oauth: 'U1' } }],
    ['an event type we do not act on', { type: 'reaction_added' }],
  ])('ignores %s', (_label, event) => {
    expect(interpretSlackEvent(event)).toEqual({ kind: 'ignored' });
  });

  it('a created channel asks for a channel sync', () => {
    expect(interpretSlackEvent({ type: 'channel_created', channel: { id: 'C9', name: 'general', creator: 'U1', created: 5 } })).toEqual({
      kind: 'data',
      normalizedType: 'channel.created',
      resource: 'channels',
      data: { channelId: 'C9', name: 'general', creatorId: 'U1' },
    });
    expect(interpretSlackEvent({ type: 'channel_created', channel: { id: 'C9', name: 'general' } })).toEqual({
      kind: 'data',
      normalizedType: 'channel.created',
      resource: 'channels',
      data: { channelId: 'C9', name: 'general', creatorId: null },
    });
  });

  it('a member joining asks for a channel sync', () => {
    expect(interpretSlackEvent({ type: 'member_joined_channel', user: 'U2', channel: 'C2', channel_type: 'C' })).toEqual({
      kind: 'data',
      normalizedType: 'channel.member_joined',
      resource: 'channels',
      data: { channelId: 'C2', userId: 'U2' },
    });
  });

  it('tokens_revoked revokes the bot only when a bot token is named', () => {
    expect(interpretSlackEvent({ type: 'tokens_revoked', tokens: { bot: ['U1'] } })).toEqual({ kind: 'revoked', reason: 'tokens_revoked', botRevoked: true });
    expect(interpretSlackEvent({ type: 'tokens_revoked', tokens: { oauth: ['U1'] } })).toEqual({ kind: 'revoked', reason: 'tokens_revoked', botRevoked: false });
    expect(interpretSlackEvent({ type: 'tokens_revoked', tokens: { oauth: ['U1'], bot: [] } })).toEqual({ kind: 'revoked', reason: 'tokens_revoked', botRevoked: false });
    expect(interpretSlackEvent({ type: 'tokens_revoked', tokens: {} })).toEqual({ kind: 'revoked', reason: 'tokens_revoked', botRevoked: false });
  });

  it('app_uninstalled revokes everything', () => {
    expect(interpretSlackEvent({ type: 'app_uninstalled' })).toEqual({ kind: 'revoked', reason: 'app_uninstalled', botRevoked: true });
  });
});
