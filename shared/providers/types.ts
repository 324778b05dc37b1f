import type { ProviderOAuth } from '../oauth/types';
import type { ProviderSync } from '../sync/types';
import type { ProviderSubscriptions } from '../webhooks/types';

/** What every provider module exports. */
export type ProviderAvailability = 'active' | 'coming_soon';

export interface ProviderScope {
  scope: string;
  /** What the permission lets us do, as shown on the consent screen and in the catalog. */
  description: string;
  /** Requested when the caller names no scopes. */
  default: boolean;
  /** Always requested: the connection cannot work without it (identity, offline access). */
  required?: boolean;
}

export interface ProviderCatalogEntry {
  id: string;
  name: string;
  status: ProviderAvailability;
  description: string;
  features: string[];
  scopes: ProviderScope[];
}

export interface ProviderDefinition {
  catalog: ProviderCatalogEntry;
  /** Present for providers that can be connected (status `active`). */
  oauth?: ProviderOAuth;
  /** Push channels the provider needs opened and renewed (Slack's events need none). */
  subscriptions?: ProviderSubscriptions;
  /** The resources the sync engine pulls. */
  sync?: ProviderSync;
}
