import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import type { ProviderResponse } from '../../oauth/http';
import {
  InvalidProviderRequestError,
  apiCall,
  assertHeaderSafe,
  parseProviderResponse,
  pathOf,
  providerHost,
  type RetryOptions,
} from '../api-call';
import type { ProviderProbe } from '../types';
import { googleOAuth } from './oauth';

/**
 * Google Calendar and Gmail calls. Errors come as
 * `{error:{code,message,errors:[{domain,reason}],status}}`: the first reason
 * (else the status) is the code; 401 is `unauthorized`, a 403 rate limit is
 * `transient` (Google asks for exponential backoff), other 4xx `rejected`.
 */
const PROVIDER = 'google';
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

const googleError = z.object({
  error: z.object({
    code: z.number().optional(),
    message: z.string().optional(),
    status: z.string().optional(),
    errors: z.array(z.object({ domain: z.string().optional(), reason: z.string().optional() })).optional(),
  }),
});

export function googleErrorFrom(response: Pick<ProviderResponse, 'status' | 'json'>): ProviderError {
  const parsed = googleError.safeParse(response.json);
  const reason = parsed.success ? parsed.data.error.errors?.find((item) => item.reason)?.reason : undefined;
  const code = reason ?? (parsed.success ? parsed.data.error.status : undefined) ?? `http_${response.status}`;
  // Google answers some rate limits with 403 and a reason: it is the 429 it means, for every caller.
  const rateLimited = response.status === 429 || (response.status === 403 && RATE_LIMIT_REASONS.has(code));
  const kind: ProviderError['kind'] = response.status === 401 ? 'unauthorized' : rateLimited ? 'transient' : 'rejected';
  return new ProviderError(PROVIDER, code, rateLimited ? 429 : response.status, kind);
}

function readGoogle<S extends z.ZodType>(schema: S, what: string) {
  return (response: ProviderResponse): z.infer<S> => {
    if (response.status < 200 || response.status >= 300) throw googleErrorFrom(response);
    return parseProviderResponse(PROVIDER, schema, response.json, what);
  };
}

// --- Calendar ---

export type GoogleEventTime = { dateTime: string; timeZone?: string } | { date: string };

export interface GoogleCalendarEventInput {
  summary: string;
  description?: string;
  location?: string;
  start: GoogleEventTime;
  end: GoogleEventTime;
  attendees?: Array<{ email: string; displayName?: string; optional?: boolean }>;
}

export interface GoogleCalendarEventOptions {
  /** Who gets invitations (Google's default is none). */
  sendUpdates?: 'all' | 'externalOnly' | 'none';
}

const eventTime = z.union([
  z.object({ dateTime: z.string().min(1), timeZone: z.string().optional() }),
  z.object({ date: z.string().min(1) }),
]);

const calendarEventSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  htmlLink: z.string().min(1),
  summary: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
  start: eventTime,
  end: eventTime,
  iCalUID: z.string().optional(),
  etag: z.string().optional(),
  created: z.string().optional(),
  updated: z.string().optional(),
  attendees: z.array(z.object({ email: z.string(), responseStatus: z.string().optional() })).optional(),
});

export type GoogleCalendarEvent = z.infer<typeof calendarEventSchema>;

// --- Gmail ---

export interface GoogleEmailInput {
  /** One address per entry: `user@example.com` or `Name <user@example.com>`. */
  to: string | string[];
  subject: string;
  /** Plain text. */
  body: string;
  cc?: string | string[];
  /** Gmail only accepts the account's own address or a configured send-as alias. */
  from?: string;
}

export interface GoogleSentEmail {
  id: string;
  threadId: string;
}

const sentMessageSchema = z.object({ id: z.string().min(1), threadId: z.string().min(1), labelIds: z.array(z.string()).optional() });

const CRLF = '\r\n';
/** Bytes per encoded-word, so that `=?UTF-8?B?…?=` stays at 64 characters and a header line within 76. */
const ENCODED_WORD_BYTES = 39;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const encodedWord = (text: string) => `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;

/** RFC 2047 B-encoded words, split on whole code points. */
export function encodeRfc2047(value: string): string[] {
  const words: string[] = [];
  let chunk = '';
  for (const char of value) {
    if (chunk !== '' && Buffer.byteLength(chunk + char, 'utf8') > ENCODED_WORD_BYTES) {
      words.push(encodedWord(chunk));
      chunk = '';
    }
    chunk += char;
  }
  if (chunk !== '') words.push(encodedWord(chunk));
  return words;
}

/** Unstructured header text (Subject): as is when plain short ASCII, otherwise folded encoded-words. */
function headerText(value: string): string {
  if (PRINTABLE_ASCII.test(value) && !value.includes('=?') && value.length <= 900) return value;
  return encodeRfc2047(value).join(`${CRLF} `);
}

const ADDR_SPEC = /^[^\s<>()[\]\\,;:"@]+@[^\s<>()[\]\\,;:"@]+$/;
const MAILBOX = /^(.*?)\s*<([^<>]*)>$/;
const ATOM_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ .]*$/;

function mailbox(field: string, value: string): string {
  assertHeaderSafe(PROVIDER, field, value);
  const trimmed = value.trim();
  const match = MAILBOX.exec(trimmed);
  const address = (match ? match[2] : trimmed)?.trim() ?? '';
  if (!ADDR_SPEC.test(address) || !PRINTABLE_ASCII.test(address)) {
    throw new InvalidProviderRequestError(PROVIDER, `${field} has an invalid address: ${JSON.stringify(value)}`);
  }
  const given = match?.[1]?.trim() ?? '';
  // An already quoted display name is unquoted first, then quoted again if it needs it.
  const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(given)?.[1];
  const name = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : given;
  if (name === '') return address;
  if (!PRINTABLE_ASCII.test(name)) return `${encodeRfc2047(name).join(' ')} <${address}>`;
  if (ATOM_PHRASE.test(name)) return `${name} <${address}>`;
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
}

function addressHeader(field: string, values: string | string[]): string {
  const list = (Array.isArray(values) ? values : [values]).map((value) => mailbox(field, value));
  if (list.length === 0) throw new InvalidProviderRequestError(PROVIDER, `${field} needs at least one address`);
  // Fold between addresses when the line would pass 76 characters.
  let header = `${field}: ${list[0]}`;
  let lineLength = header.length;
  for (const address of list.slice(1)) {
    if (lineLength + 2 + address.length > 76) {
      header += `,${CRLF} ${address}`;
      lineLength = 1 + address.length;
    } else {
      header += `, ${address}`;
      lineLength += 2 + address.length;
    }
  }
  return header;
}

const base64Lines = (text: string) => Buffer.from(text, 'utf8').toString('base64').match(/.{1,76}/g)?.join(CRLF) ?? '';

/**
 * The RFC 2822 (5322) message Gmail sends: CRLF line endings, a non-ASCII
 * subject or display name as RFC 2047 encoded-words, a UTF-8 text body in
 * base64 lines of 76. Line breaks in header values are refused (injection).
 */
export function buildRfc2822Message(input: GoogleEmailInput): string {
  assertHeaderSafe(PROVIDER, 'subject', input.subject);
  const headers = [
    ...(input.from !== undefined ? [`From: ${mailbox('From', input.from)}`] : []),
    addressHeader('To', input.to),
    ...(input.cc !== undefined && (!Array.isArray(input.cc) || input.cc.length > 0) ? [addressHeader('Cc', input.cc)] : []),
    `Subject: ${headerText(input.subject)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="UTF-8"',
    'Content-Transfer-Encoding: base64',
  ];
  const body = input.body.replace(/\r\n|\r|\n/g, CRLF);
  return `${headers.join(CRLF)}${CRLF}${CRLF}${base64Lines(body)}${CRLF}`;
}

// --- client ---

/** Only the documented fields, whatever else the caller's object carries. */
const eventBody = (event: GoogleCalendarEventInput) => ({
  summary: event.summary,
  ...(event.description !== undefined ? { description: event.description } : {}),
  ...(event.location !== undefined ? { location: event.location } : {}),
  start: event.start,
  end: event.end,
  ...(event.attendees !== undefined ? { attendees: event.attendees } : {}),
});

export interface GoogleClient {
  /** Calendar events.insert. */
  createCalendarEvent(
    accessToken: string,
    event: GoogleCalendarEventInput,
    calendarId?: string,
    options?: GoogleCalendarEventOptions,
  ): Promise<GoogleCalendarEvent>;
  /** Gmail users.messages.send as the connected user. */
  sendEmail(accessToken: string, email: GoogleEmailInput): Promise<GoogleSentEmail>;
}

export function createGoogleClient(retry: RetryOptions = {}): GoogleClient {
  return {
    createCalendarEvent(accessToken, event, calendarId = 'primary', options = {}) {
      const url = new URL(`${providerHost(PROVIDER, googleOAuth, 'www')}/calendar/v3/calendars${pathOf(calendarId)}/events`);
      if (options.sendUpdates) url.searchParams.set('sendUpdates', options.sendUpdates);
      return apiCall(
        {
          providerId: PROVIDER,
          method: 'POST',
          url: url.toString(),
          accessToken,
          body: { json: eventBody(event) },
          read: readGoogle(calendarEventSchema, 'calendar event'),
          rateLimitCode: 'rateLimitExceeded',
          acts: true,
        },
        retry,
      );
    },

    async sendEmail(accessToken, email) {
      const raw = Buffer.from(buildRfc2822Message(email), 'utf8').toString('base64url');
      const sent = await apiCall(
        {
          providerId: PROVIDER,
          method: 'POST',
          url: `${providerHost(PROVIDER, googleOAuth, 'gmail')}/gmail/v1/users/me/messages/send`,
          accessToken,
          body: { json: { raw } },
          read: readGoogle(sentMessageSchema, 'sent message'),
          rateLimitCode: 'rateLimitExceeded',
          acts: true,
        },
        retry,
      );
      return { id: sent.id, threadId: sent.threadId };
    },
  };
}

export const googleClient: GoogleClient = createGoogleClient();

const userinfoSchema = z.looseObject({ sub: z.string().min(1) });

/** The health check's probe: OpenID userinfo, which every grant can read (openid is always requested). */
export const googleProbe: ProviderProbe = {
  credentialKind: 'oauth',
  async run(accessToken) {
    await apiCall({
      providerId: PROVIDER,
      method: 'GET',
      url: `${providerHost(PROVIDER, googleOAuth, 'openidconnect')}/v1/userinfo`,
      accessToken,
      read: readGoogle(userinfoSchema, 'userinfo'),
      rateLimitCode: 'rateLimitExceeded',
    });
  },
};
