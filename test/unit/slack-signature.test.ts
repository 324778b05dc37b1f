import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackRequest } from '../../shared/providers/slack/webhook';

// The official vector (python-slack-sdk tests/signature, from Slack's "verifying requests" guide).
const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const timestamp = '1531420618';
const body = Buffer.from(
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
);
const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const nowSeconds = Number(timestamp);

describe('Slack request signing', () => {
  it('reproduces the official vector', () => {
    expect(slackSignature(secret, timestamp, body)).toBe(signature);
    expect(verifySlackRequest({ signingSecret: secret, timestamp, signature, rawBody: body, nowSeconds })).toBe(true);
  });

  it.each([
    ['a truncated secret', { signingSecret: secret.slice(0, -1) }],
    ['a tampered body', { rawBody: Buffer.concat([body, Buffer.from('&x=1')]) }],
    ['a stale timestamp (over 5 minutes old)', { nowSeconds: nowSeconds + 301 }],
    ['a timestamp from the future', { nowSeconds: nowSeconds - 301 }],
    ['no signature', { signature: undefined }],
    ['no timestamp', { timestamp: undefined }],
    ['a malformed signature', { signature: 'v1=abc' }],
    ['another signature', { signature: `v0=${'0'.repeat(64)}` }],
    ['a non-numeric timestamp', { timestamp: '15314e0618' }],
  ])('refuses %s', (_label, change) => {
    expect(verifySlackRequest({ signingSecret: secret, timestamp, signature, rawBody: body, nowSeconds, ...change })).toBe(false);
  });

  it('accepts the edge of the window', () => {
    expect(verifySlackRequest({ signingSecret: secret, timestamp, signature, rawBody: body, nowSeconds: nowSeconds + 300 })).toBe(true);
  });
});
