import type { ProviderCatalogEntry } from '../types';

/** Slack as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const slackCatalog: ProviderCatalogEntry = {
  id: 'slack',
  name: 'Slack',
  status: 'active',
  description: 'Messaging, channels and notifications in your Slack workspace.',
  features: ['messaging', 'channels', 'notifications'],
  scopes: [
    { scope: 'channels:read', description: 'View the channels in your workspace', default: true },
    { scope: 'chat:write', description: 'Send messages on your behalf', default: true },
    { scope: 'channels:manage', description: 'Create channels for teams and projects', default: true },
    { scope: 'users:read', description: 'Read user profiles for mentions', default: true },
    { scope: 'channels:history', description: 'Receive new messages in public channels', default: true },
    { scope: 'groups:read', description: 'View private channels the app was added to', default: false },
    // `user:` scopes are requested as Slack user scopes and yield a separate user token.
    { scope: 'user:chat:write', description: 'Send messages as you', default: true },
  ],
};
