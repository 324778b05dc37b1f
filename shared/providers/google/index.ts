import type { ProviderDefinition } from '../types';
import { googleCatalog } from './catalog';
import { googleProbe } from './client';
import { googleWebhookTest } from './webhook';
import { googleActions } from './actions';
import { googleSync } from './sync';
import { googleSubscriptions } from './subscriptions';
import { googleOAuth } from './oauth';

export const google: ProviderDefinition = {
  catalog: googleCatalog,
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
