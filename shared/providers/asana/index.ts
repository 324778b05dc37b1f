import type { ProviderDefinition } from '../types';
import { asanaCatalog } from './catalog';
import { asanaActions } from './actions';
import { asanaProbe } from './client';
import { asanaOAuth } from './oauth';
import { asanaSubscriptions } from './subscriptions';
import { asanaSync } from './sync';
import { asanaWebhookTest } from './webhook';

export const asana: ProviderDefinition = {
  catalog: asanaCatalog,
  oauth: asanaOAuth,
  subscriptions: asanaSubscriptions,
  sync: asanaSync,
  actions: asanaActions,
  probe: asanaProbe,
  webhookTest: asanaWebhookTest,
  wiring: {
    // Asana tokens: `<version>/<user gid>[/<app gid>]:<32 hex>`.
    tokenPatterns: [/\b[12]\/\d{6,}(?:\/\d{6,})?:[0-9a-f]{32}\b/g],
  },
};
