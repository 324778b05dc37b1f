import type { ProviderCatalogEntry } from '../types';

/** Asana as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const asanaCatalog: ProviderCatalogEntry = {
  id: 'asana',
  name: 'Asana',
  status: 'coming_soon',
  description: 'Task management and projects in Asana.',
  features: ['tasks', 'projects'],
  scopes: [
    { scope: 'tasks:read', description: 'Read tasks', default: true },
    { scope: 'projects:read', description: 'Read projects', default: true },
  ],
};
