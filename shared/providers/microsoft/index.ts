import type { ProviderDefinition } from '../types';
import { microsoftCatalog } from './catalog';
import { microsoftProbe } from './client';
import { microsoftWebhookTest } from './webhook';
import { microsoftActions } from './actions';
import { microsoftSync } from './sync';
import { microsoftSubscriptions } from './subscriptions';
import { microsoftOAuth } from './oauth';

export const microsoft: ProviderDefinition = {
  catalog: microsoftCatalog,
  probe: microsoftProbe,
  webhookTest: microsoftWebhookTest,
  oauth: microsoftOAuth,
  subscriptions: microsoftSubscriptions,
  sync: microsoftSync,
  actions: microsoftActions,
  wiring: { secretKeys: ['MICROSOFT_TENANT'] },
};
