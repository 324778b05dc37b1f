import type { ProviderDefinition } from '../types';
import { slackCatalog } from './catalog';
import { slackProbe } from './client';
import { slackWebhookTest } from './webhook';
import { slackActions } from './actions';
import { slackOAuth } from './oauth';
import { slackSync } from './sync';

export const slack: ProviderDefinition = {
  catalog: slackCatalog,
  probe: slackProbe,
  webhookTest: slackWebhookTest,
  oauth: slackOAuth,
  sync: slackSync,
  actions: slackActions,
  wiring: {
    secretKeys: ['SLACK_SIGNING_SECRET'],
    tokenPatterns: [
      /xox[abeoprs]-[A-Za-z0-9-]+/g, // bot, user, refresh and configuration tokens
      /xapp-[A-Za-z0-9-]+/g,
    ],
  },
};
