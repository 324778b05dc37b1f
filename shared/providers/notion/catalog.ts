import type { ProviderCatalogEntry } from '../types';

/** Notion as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const notionCatalog: ProviderCatalogEntry = {
  id: 'notion',
  name: 'Notion',
  status: 'active',
  description: 'Documentation and databases in Notion.',
  features: ['documentation', 'databases'],
  // Notion has no OAuth scopes: the user picks the pages to share on its consent screen.
  scopes: [],
};
