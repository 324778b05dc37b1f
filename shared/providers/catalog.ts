import { asanaCatalog } from './asana/catalog';
import { googleCatalog } from './google/catalog';
import { microsoftCatalog } from './microsoft/catalog';
import { notionCatalog } from './notion/catalog';
import { slackCatalog } from './slack/catalog';
import type { ProviderCatalogEntry } from './types';

/**
 * The provider catalog on its own: what each provider is and which scopes it
 * asks for, without the provider code (OAuth, sync, webhooks) that the
 * registry loads and that needs the table. The catalog endpoint imports only
 * this, so its Lambda carries no DynamoDB client. Same order as the registry
 * (test/unit/provider-catalog.test.ts).
 */
export const providerCatalog: readonly ProviderCatalogEntry[] = [slackCatalog, googleCatalog, microsoftCatalog, asanaCatalog, notionCatalog];
