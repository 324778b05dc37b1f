import type { ProviderDefinition } from '../types';
import { googleProbe } from './client';
import { googleWebhookTest } from './webhook';
import { googleActions } from './actions';
import { googleSync } from './sync';
import { googleSubscriptions } from './subscriptions';
import { googleOAuth } from './oauth';

const api = (name: string) => `https://www.googleapis.com/auth/${name}`;

export const google: ProviderDefinition = {
  catalog: {
    id: 'google',
    name: 'Google Workspace',
    status: 'active',
    description: 'Calendar, Gmail and Drive in your Google Workspace.',
    features: ['calendar', 'gmail', 'drive', 'contacts'],
    scopes: [
      { scope: 'openid', description: 'Identify your Google account', default: true, required: true },
      { scope: 'email', description: 'See your primary email address', default: true, required: true },
      { scope: api('calendar.events'), description: 'Manage events and meetings', default: true },
      { scope: api('drive.readonly'), description: 'See your Drive files and their changes', default: true },
      { scope: api('drive.file'), description: 'Share files the app creates', default: false },
      { scope: api('gmail.send'), description: 'Send emails on your behalf', default: true },
      { scope: api('gmail.readonly'), description: 'Be notified of new messages', default: true },
      { scope: api('contacts.readonly'), description: 'Read contact information', default: true },
    ],
  },
  probe: googleProbe,
  webhookTest: googleWebhookTest,
  oauth: googleOAuth,
  subscriptions: googleSubscriptions,
  sync: googleSync,
  actions: googleActions,
  wiring: {
    tokenPatterns: [
      /ya29\.[A-Za-z0-9._-]+/g, // access tokens
      /1\/\/[A-Za-z0-9._-]{20,}/g, // refresh tokens
    ],
    // Gmail push is optional: the Pub/Sub topic of users.watch, and the audience its push subscription signs for.
    deployContext: [
      { context: 'gmailPubsubTopic', env: 'GMAIL_PUBSUB_TOPIC', target: 'subscribers' },
      { context: 'gmailPushAudience', env: 'GMAIL_PUSH_AUDIENCE', target: 'webhook' },
    ],
    localEnv: ({ webhookUrl, sandboxUrl, real }) => ({
      GMAIL_PUSH_AUDIENCE: webhookUrl,
      // The sandbox signs Gmail pushes with its own key.
      ...(real ? {} : { GOOGLE_JWKS_URL: `${sandboxUrl}/google/www/oauth2/v3/certs` }),
    }),
  },
};
