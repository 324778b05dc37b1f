import type { ProviderDefinition } from '../types';

export const notion: ProviderDefinition = {
  catalog: {
    id: 'notion',
    name: 'Notion',
    status: 'coming_soon',
    description: 'Documentation and databases in Notion.',
    features: ['documentation', 'databases'],
    // Notion has no OAuth scopes: the user picks the pages to share on its consent screen.
    scopes: [],
  },
};
