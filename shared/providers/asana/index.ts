import type { ProviderDefinition } from '../types';

export const asana: ProviderDefinition = {
  catalog: {
    id: 'asana',
    name: 'Asana',
    status: 'coming_soon',
    description: 'Task management and projects in Asana.',
    features: ['tasks', 'projects'],
    scopes: [
      { scope: 'tasks:read', description: 'Read tasks', default: true },
      { scope: 'projects:read', description: 'Read projects', default: true },
    ],
  },
};
