import type { ProviderCatalogEntry } from '../types';

const api = (name: string) => `https://www.googleapis.com/auth/${name}`;

/** Google Workspace as the catalog endpoint shows it: data only, so the catalog loads none of the provider's code. */
export const googleCatalog: ProviderCatalogEntry = {
  id: 'google',
  name: 'Google Workspace',
  status: 'active',
  description: 'Calendar, Gmail and Drive in your Google Workspace.',
  features: ['calendar', 'gmail', 'drive', 'contacts'],
  scopes: [
    { scope: 'openid', description: 'Identify your Google account', default: true, required: true },
    { scope: 'email', description: 'See your primary email address', default: true, required: true },
    { scope: api('calendar.events'), description: 'Manage events and meetings', default: true },
    { scope: api('drive.readonly'), description: 'See your Drive files and their changes', default: true },
    { scope: api('drive.file'), description: 'Share files the app creates', default: false },
    { scope: api('gmail.send'), description: 'Send emails on your behalf', default: true },
    { scope: api('gmail.readonly'), description: 'Be notified of new messages', default: true },
    { scope: api('contacts.readonly'), description: 'Read contact information', default: true },
  ],
};
