import * as z from 'zod';
import { defineAction } from '../actions';
import type { ActionFailure, ProviderActions } from '../types';
import { microsoftClient } from './client';

/** What the HR platform does in Microsoft 365: onboarding meetings, e-mail and Teams posts, as the connected user. */
const CREDENTIAL = 'oauth';

const contentType = z.enum(['text', 'html']);
/** Graph takes a local date-time and a zone name (`2026-01-15T10:00:00`, `UTC`). */
const graphDateTime = z.object({ dateTime: z.iso.datetime({ local: true }), timeZone: z.string().min(1) }).strict();
const addresses = z.union([z.email(), z.array(z.email()).min(1).max(100)]);

const createCalendarEvent = defineAction({
  name: 'microsoft.createCalendarEvent',
  credentialKind: CREDENTIAL,
  requiredScope: 'Calendars.ReadWrite',
  client: microsoftClient,
  input: z
    .object({
      subject: z.string().min(1).max(1_000),
      body: z.object({ contentType, content: z.string().max(8_000) }).strict().optional(),
      start: graphDateTime,
      end: graphDateTime,
      location: z.string().max(1_000).optional(),
      attendees: z
        .array(z.object({ address: z.email(), name: z.string().optional(), type: z.enum(['required', 'optional', 'resource']).optional() }).strict())
        .max(100)
        .optional(),
    })
    .strict(),
  run: async (client, accessToken, input) => {
    const created = await client.createCalendarEvent(accessToken, input);
    return { ids: { eventId: created.id }, details: { webLink: created.webLink } };
  },
});

const sendEmail = defineAction({
  name: 'microsoft.sendEmail',
  credentialKind: CREDENTIAL,
  requiredScope: 'Mail.Send',
  client: microsoftClient,
  input: z
    .object({ to: addresses, cc: addresses.optional(), subject: z.string().min(1).max(998), body: z.string().min(1).max(50_000), contentType: contentType.optional() })
    .strict(),
  run: async (client, accessToken, input) => {
    // Graph answers 202 with no body: there is no message id to return.
    await client.sendEmail(accessToken, input);
    return { ids: {} };
  },
});

const sendChannelMessage = defineAction({
  name: 'microsoft.sendChannelMessage',
  credentialKind: CREDENTIAL,
  requiredScope: 'ChannelMessage.Send',
  client: microsoftClient,
  input: z
    .object({ teamId: z.string().min(1).max(200), channelId: z.string().min(1).max(200), content: z.string().min(1).max(28_000), contentType: contentType.optional() })
    .strict(),
  run: async (client, accessToken, input) => {
    const sent = await client.sendChannelMessage(accessToken, input.teamId, input.channelId, input.content, input.contentType === undefined ? {} : { contentType: input.contentType });
    return { ids: { messageId: sent.id } };
  },
});

const FAILURES: Readonly<Record<string, ActionFailure>> = {
  Authorization_RequestDenied: 'missing_scope',
  ErrorAccessDenied: 'missing_scope',
  NotFound: 'not_found',
  ErrorItemNotFound: 'not_found',
};

export const microsoftActions: ProviderActions = {
  list: [createCalendarEvent, sendEmail, sendChannelMessage],
  failureOf: (code) => FAILURES[code],
};
