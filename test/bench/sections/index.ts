import type { Section } from '../lib/types';
import { bundleChoiceSection } from './bundle-choice';
import { bundlesSection } from './bundles';
import { coldImportSection } from './cold-import';
import { costModelSection } from './cost-model';
import { httpListIntegrationsSection } from './http-list-integrations';
import { kmsCycleSection } from './kms-cycle';
import { settingsPageSection } from './settings-page';
import { syncDispatchSection } from './sync-dispatch';
import { syncRecordsSection } from './sync-records';
import { syncWritesSection } from './sync-writes';
import { tokenRefreshSection } from './token-refresh';
import { tokenVaultSection } from './token-vault';
import { webhookHttpSection } from './webhook-http';
import { webhookVerifySection } from './webhook-verify';

/**
 * The benchmark's sections, in the order they run and print. Adding one: a
 * file beside this one exporting a `Section` (an id, a title, and `run`
 * returning tables of rows plus optional raw data), and an entry here.
 * Shared work goes through `context.memo` (see lib/bundle.ts, lib/store.ts);
 * scratch files go under `context.workDir`; anything to stop at the end goes
 * to `context.onCleanup`. Heavy imports belong inside `run`, so selecting
 * sections with BENCH_SECTIONS stays quick.
 */
export const sections: readonly Section[] = [
  bundleChoiceSection,
  bundlesSection,
  coldImportSection,
  httpListIntegrationsSection,
  tokenVaultSection,
  tokenRefreshSection,
  webhookVerifySection,
  webhookHttpSection,
  syncRecordsSection,
  syncWritesSection,
  costModelSection,
  kmsCycleSection,
  settingsPageSection,
  // Last: it leaves its (up to 100,000) seeded integrations in the shared in-memory table.
  syncDispatchSection,
];
