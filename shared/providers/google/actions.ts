import * as z from 'zod';
import { defineAction } from '../actions';
import type { ActionFailure, ProviderActions } from '../types';
import { googleClient } from './client';

/** What the HR platform does in Google Workspace: onboarding meetings and e-mail, as the connected user. */
const CREDENTIAL = 'oauth';
const scope = (name: string) => `https://www.googleapis.com/auth/${name}`;

const eventTime = z.union([
  z.object({ dateTime: z.iso.datetime({ offset: true }), timeZone: z.string().min(1).optional() }).strict(),
  z.object({ date: z.iso.date() }).strict(),
]);
const addresses = z.union([z.email(), z.array(z.email()).min(1).max(100)]);

const createCalendarEvent = defineAction({
  name: 'google.createCalendarEvent',
  credentialKind: CREDENTIAL,
  requiredScope: scope('calendar.events'),
  client: googleClient,
  input: z
    .object({
      summary: z.string().min(1).max(1_000),
      description: z.string().max(8_000).optional(),
      location: z.string().max(1_000).optional(),
      start: eventTime,
      end: eventTime,
      attendees: z.array(z.object({ email: z.email(), displayName: z.string().optional(), optional: z.boolean().optional() }).strict()).max(100).optional(),
      sendUpdates: z.enum(['all', 'externalOnly', 'none']).optional(),
    })
    .strict(),
  run: async (client, accessToken, { sendUpdates, ...event }) => {
    const created = await client.createCalendarEvent(accessToken, event, 'primary', sendUpdates === undefined ? {} : { sendUpdates });
    return { ids: { eventId: created.id }, details: { htmlLink: created.htmlLink, status: created.status } };
  },
});

const sendEmail = defineAction({
  name: 'google.sendEmail',
  credentialKind: CREDENTIAL,
  requiredScope: scope('gmail.send'),
  client: googleClient,
  input: z.object({ to: addresses, cc: addresses.optional(), subject: z.string().min(1).max(998), body: z.string().min(1).max(50_000) }).strict(),
  run: async (client, accessToken, input) => {
    const sent = await client.sendEmail(accessToken, input);
    return { ids: { messageId: sent.id, threadId: sent.threadId } };
  },
});

const FAILURES: Readonly<Record<string, ActionFailure>> = {
  insufficientPermissions: 'missing_scope',
  ACCESS_TOKEN_SCOPE_INSUFFICIENT: 'missing_scope',
  notFound: 'not_found',
};

export const googleActions: ProviderActions = {
  list: [createCalendarEvent, sendEmail],
  failureOf: (code) => FAILURES[code],
};
