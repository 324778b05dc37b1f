import type { ProviderDefinition } from '../types';
import { notionCatalog } from './catalog';
import { notionActions } from './actions';
import { notionProbe } from './client';
import { notionOAuth } from './oauth';
import { notionSubscriptions } from './subscriptions';
import { notionSync } from './sync';
import { notionWebhookTest } from './webhook';

export const notion: ProviderDefinition = {
  catalog: notionCatalog,
  oauth: notionOAuth,
  subscriptions: notionSubscriptions,
  sync: notionSync,
  actions: notionActions,
  probe: notionProbe,
  webhookTest: notionWebhookTest,
  wiring: {
    // Access and refresh tokens (`ntn_`, `nrt_`, and the older `secret_`), and the webhook verification token (`secret_`).
    tokenPatterns: [/\b(?:ntn|nrt|secret)_[A-Za-z0-9]{20,}\b/g],
    localConsole: [
      'Notion webhook pin the verification token Notion posts (until then its events are refused):',
      '               npm run -s notion-webhook -- pending, then npm run -s notion-webhook -- pin <token>',
    ],
  },
};
