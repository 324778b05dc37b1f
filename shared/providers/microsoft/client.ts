import * as z from 'zod';
import { ProviderError } from '../../oauth/errors';
import type { ProviderResponse } from '../../oauth/http';
import { apiCall, parseProviderResponse, pathOf, providerHost, type ApiBody, type RetryOptions } from '../api-call';
import type { ProviderProbe } from '../types';
import { microsoftOAuth } from './oauth';

/**
 * Microsoft Graph calls (v1.0, delegated `/me`). Errors come as
 * `{error:{code,message,innerError|innererror}}`: the code is kept, 401 is
 * `unauthorized`, a 429 `TooManyRequests` is `transient` with its
 * Retry-After, other 4xx are `rejected`.
 */
const PROVIDER = 'microsoft';

const graphError = z.object({ error: z.object({ code: z.string().min(1), message: z.string().optional() }) });

export function graphErrorFrom(response: Pick<ProviderResponse, 'status' | 'json'>): ProviderError {
  const parsed = graphError.safeParse(response.json);
  const code = parsed.success ? parsed.data.error.code : `http_${response.status}`;
  const kind: ProviderError['kind'] = response.status === 401 ? 'unauthorized' : response.status === 429 ? 'transient' : 'rejected';
  return new ProviderError(PROVIDER, code, response.status, kind);
}

export type GraphContentType = 'text' | 'html';
const graphContentType = (type: GraphContentType | undefined) => (type === 'html' ? 'HTML' : 'Text');

export interface GraphDateTime {
  /** Local date-time without offset, e.g. `2026-01-15T10:00:00`. */
  dateTime: string;
  /** Windows or IANA time zone name, e.g. `UTC`, `Pacific Standard Time`. */
  timeZone: string;
}

export interface MicrosoftEventInput {
  subject: string;
  body?: { contentType: GraphContentType; content: string };
  start: GraphDateTime;
  end: GraphDateTime;
  location?: string;
  attendees?: Array<{ address: string; name?: string; type?: 'required' | 'optional' | 'resource' }>;
}

export interface MicrosoftEvent {
  id: string;
  webLink: string;
  iCalUId?: string;
}

export interface MicrosoftEmailInput {
  to: string | string[];
  subject: string;
  body: string;
  /** Default `text`. */
  contentType?: GraphContentType;
  cc?: string | string[];
  /** Keep a copy in Sent Items (Graph's default: true). */
  saveToSentItems?: boolean;
}

export interface MicrosoftChannelMessage {
  id: string;
}

const eventSchema = z.object({ id: z.string().min(1), webLink: z.string().min(1), iCalUId: z.string().optional() });
const chatMessageSchema = z.object({ id: z.string().min(1) });

const recipients = (values: string | string[]) =>
  (Array.isArray(values) ? values : [values]).map((address) => ({ emailAddress: { address } }));

export interface MicrosoftClient {
  /** POST /me/events (the default calendar). */
  createCalendarEvent(accessToken: string, event: MicrosoftEventInput): Promise<MicrosoftEvent>;
  /** POST /me/sendMail; Graph answers 202 with no body. */
  sendEmail(accessToken: string, email: MicrosoftEmailInput): Promise<void>;
  /** POST /teams/{teamId}/channels/{channelId}/messages (delegated ChannelMessage.Send). */
  sendChannelMessage(
    accessToken: string,
    teamId: string,
    channelId: string,
    content: string,
    options?: { contentType?: GraphContentType },
  ): Promise<MicrosoftChannelMessage>;
}

export function createMicrosoftClient(retry: RetryOptions = {}): MicrosoftClient {
  const post = <T>(accessToken: string, path: string, body: ApiBody, read: (response: ProviderResponse) => T) =>
    apiCall(
      {
        providerId: PROVIDER,
        method: 'POST',
        url: `${providerHost(PROVIDER, microsoftOAuth, 'graph')}/v1.0${path}`,
        accessToken,
        body,
        read,
        rateLimitCode: 'TooManyRequests',
        acts: true,
      },
      retry,
    );

  /** Graph documents the success status of each call (201, 202); any 2xx is taken as success. */
  const success =
    <S extends z.ZodType>(schema: S, what: string) =>
    (response: ProviderResponse): z.infer<S> => {
      if (response.status < 200 || response.status >= 300) throw graphErrorFrom(response);
      return parseProviderResponse(PROVIDER, schema, response.json, what);
    };

  return {
    async createCalendarEvent(accessToken, event) {
      const created = await post(
        accessToken,
        '/me/events',
        {
          json: {
            subject: event.subject,
            ...(event.body ? { body: { contentType: graphContentType(event.body.contentType), content: event.body.content } } : {}),
            start: event.start,
            end: event.end,
            ...(event.location !== undefined ? { location: { displayName: event.location } } : {}),
            ...(event.attendees
              ? {
                  attendees: event.attendees.map((attendee) => ({
                    emailAddress: { address: attendee.address, ...(attendee.name !== undefined ? { name: attendee.name } : {}) },
                    type: attendee.type ?? 'required',
                  })),
                }
              : {}),
          },
        },
        success(eventSchema, 'event'),
      );
      return { id: created.id, webLink: created.webLink, ...(created.iCalUId !== undefined ? { iCalUId: created.iCalUId } : {}) };
    },

    async sendEmail(accessToken, email) {
      await post(
        accessToken,
        '/me/sendMail',
        {
          json: {
            message: {
              subject: email.subject,
              body: { contentType: graphContentType(email.contentType), content: email.body },
              toRecipients: recipients(email.to),
              ...(email.cc !== undefined ? { ccRecipients: recipients(email.cc) } : {}),
            },
            saveToSentItems: email.saveToSentItems ?? true,
          },
        },
        success(z.unknown(), 'sendMail response'),
      );
    },

    async sendChannelMessage(accessToken, teamId, channelId, content, options = {}) {
      const message = await post(
        accessToken,
        `/teams${pathOf(teamId)}/channels${pathOf(channelId)}/messages`,
        { json: { body: { contentType: options.contentType ?? 'text', content } } },
        success(chatMessageSchema, 'chatMessage'),
      );
      return { id: message.id };
    },
  };
}

export const microsoftClient: MicrosoftClient = createMicrosoftClient();

const meSchema = z.looseObject({ id: z.string().min(1) });

/** The health check's probe: Graph `GET /me`, the signed-in user (User.Read is always granted). */
export const microsoftProbe: ProviderProbe = {
  credentialKind: 'oauth',
  async run(accessToken) {
    await apiCall({
      providerId: PROVIDER,
      method: 'GET',
      url: `${providerHost(PROVIDER, microsoftOAuth, 'graph')}/v1.0/me`,
      accessToken,
      read: (response) => {
        if (response.status < 200 || response.status >= 300) throw graphErrorFrom(response);
        return parseProviderResponse(PROVIDER, meSchema, response.json, 'user');
      },
      rateLimitCode: 'TooManyRequests',
    });
  },
};
