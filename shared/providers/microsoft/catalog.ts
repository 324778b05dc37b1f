import type { ProviderCatalogEntry } from '../types';

/** Microsoft 365 as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const microsoftCatalog: ProviderCatalogEntry = {
  id: 'microsoft',
  name: 'Microsoft 365',
  status: 'active',
  description: 'Outlook calendar and mail, Teams and OneDrive in your Microsoft 365 tenant.',
  features: ['calendar', 'mail', 'teams', 'onedrive'],
  scopes: [
    { scope: 'openid', description: 'Identify your Microsoft account', default: true, required: true },
    { scope: 'offline_access', description: 'Stay connected without signing in again', default: true, required: true },
    { scope: 'User.Read', description: 'Read your profile', default: true, required: true },
    { scope: 'Calendars.ReadWrite', description: 'Manage events and meetings', default: true },
    { scope: 'Mail.Send', description: 'Send emails on your behalf', default: true },
    { scope: 'Files.Read.All', description: 'See your OneDrive files and their changes', default: true },
    { scope: 'ChannelMessage.Send', description: 'Post messages to Teams channels', default: true },
    { scope: 'Team.ReadBasic.All', description: 'List the teams you belong to', default: true },
  ],
};
