import type { ProviderCatalogEntry } from '../types';

/** Asana as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const asanaCatalog: ProviderCatalogEntry = {
  id: 'asana',
  name: 'Asana',
  status: 'active',
  description: 'Task management and projects in Asana.',
  features: ['tasks', 'projects'],
  scopes: [
    { scope: 'users:read', description: 'Identify your Asana account', default: true, required: true },
    { scope: 'workspaces:read', description: 'See your workspaces', default: true, required: true },
    { scope: 'projects:read', description: 'Read projects', default: true },
    { scope: 'tasks:read', description: 'Read tasks', default: true },
    { scope: 'tasks:write', description: 'Create onboarding tasks', default: true },
    { scope: 'webhooks:write', description: 'Be notified when tasks change', default: true },
  ],
};
