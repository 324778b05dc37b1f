import * as z from 'zod';
import { defineAction } from '../actions';
import type { ActionFailure, ProviderActions } from '../types';
import { slackClient } from './client';
import { SLACK_BOT } from './oauth';

/** What the HR platform does in Slack: welcome messages and onboarding channels, as the app's bot. */
const sendMessage = defineAction({
  name: 'slack.sendMessage',
  credentialKind: SLACK_BOT,
  requiredScope: 'chat:write',
  client: slackClient,
  input: z
    .object({
      /** A channel id (`C…`), or a name such as `#general`. */
      channel: z.string().min(1).max(80),
      /** Slack truncates beyond 40,000 characters; refuse rather than truncate. */
      text: z.string().min(1).max(40_000),
      threadTs: z.string().regex(/^\d+\.\d+$/).optional(),
    })
    .strict(),
  run: async (client, accessToken, input) => {
    const sent = await client.sendMessage(accessToken, input.channel, input.text, input.threadTs === undefined ? {} : { threadTs: input.threadTs });
    return { ids: { channel: sent.channel, ts: sent.ts } };
  },
});

const createChannel = defineAction({
  name: 'slack.createChannel',
  credentialKind: SLACK_BOT,
  requiredScope: 'channels:manage',
  client: slackClient,
  input: z
    .object({
      // Slack's own naming rule, checked here so a bad name is a 400 and not a provider round trip.
      name: z.string().regex(/^[a-z0-9_-]{1,80}$/, 'lowercase letters, digits, "-" and "_", at most 80'),
    })
    .strict(),
  run: async (client, accessToken, input) => {
    const channel = await client.createChannel(accessToken, input.name);
    return { ids: { channelId: channel.id }, details: { name: channel.name } };
  },
});

const FAILURES: Readonly<Record<string, ActionFailure>> = {
  missing_scope: 'missing_scope',
  name_taken: 'name_taken',
  channel_not_found: 'not_found',
};

export const slackActions: ProviderActions = {
  list: [sendMessage, createChannel],
  failureOf: (code) => FAILURES[code],
};
