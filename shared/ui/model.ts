/**
 * The API's answers as the page reads them. Integration and sync-log shapes
 * are the API's own types (type-only imports: nothing of the server is
 * bundled); the rest mirrors the handlers' responses.
 */
import type { IntegrationView } from '../domain/integration';
import type { SyncLog } from '../store/sync';

export type Integration = IntegrationView;
export type { SyncLog };

export interface CatalogEntry {
  id: string;
  name: string;
  status: 'active' | 'coming_soon';
  description: string;
  features: string[];
}

export interface SyncSettings {
  scheduledSync: boolean;
  resources: Record<string, boolean>;
}

export interface Consent {
  userId: string;
  grantedAt: string;
  scopesRequested: string[];
  scopesGranted: string[];
  ipAddress?: string;
  userAgent?: string;
  consentVersion: string;
}

export interface Erasure {
  erasedAt: string;
  purgeAt: string;
}

export interface Completion {
  integrationId: string;
  providerId: string;
  status: 'connected' | 'reconnected';
}

export type Role = 'admin' | 'hr' | 'manager' | 'employee';

/** What this role may do on the page (the server decides; this only hides what would be refused). */
export const mayManage = (role: Role | undefined) => role === undefined || role === 'admin' || role === 'hr';

/** The `role` claim of the host's JWT, read for display only (the API verifies the token). */
export function roleOfToken(token: string): Role | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { role?: unknown };
    return claims.role === 'admin' || claims.role === 'hr' || claims.role === 'manager' || claims.role === 'employee' ? claims.role : undefined;
  } catch {
    return undefined;
  }
}

/** The name a person knows an integration by: the provider and the account's name. */
export const accountLabel = (integration: Integration) => integration.externalAccount.name ?? integration.externalAccount.id;

const RESOURCE_LABELS: Record<string, string> = { onedrive: 'OneDrive', gmail: 'Gmail', users: 'People', channels: 'Channels', calendar: 'Calendar', drive: 'Drive', events: 'Calendar events' };
export const resourceLabel = (resource: string) => RESOURCE_LABELS[resource] ?? resource.charAt(0).toUpperCase() + resource.slice(1).replace(/[_-]+/g, ' ');
