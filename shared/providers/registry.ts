import { asana } from './asana';
import { google } from './google';
import { microsoft } from './microsoft';
import { notion } from './notion';
import { slack } from './slack';
import { addCredentialPatterns } from '../logging/redact';
import type { ProviderAction, ProviderActions, ProviderCatalogEntry, ProviderDefinition } from './types';

/** Adding a provider: one folder beside this file and one entry here. */
const providers: readonly ProviderDefinition[] = [slack, google, microsoft, asana, notion];

// Every provider's token shapes are masked in the logs of any code that can hold its tokens (it loaded this registry).
for (const provider of providers) addCredentialPatterns(provider.wiring?.tokenPatterns ?? []);

const byId = new Map(providers.map((provider) => [provider.catalog.id, provider]));

export const providerIds = providers.map((provider) => provider.catalog.id);

export function findProvider(providerId: string): ProviderDefinition | undefined {
  return byId.get(providerId);
}

export const providerDefinitions = (): readonly ProviderDefinition[] => providers;

export function catalog(): ProviderCatalogEntry[] {
  return providers.map((provider) => provider.catalog);
}

/** The display name of a provider id, falling back to the id for one no longer registered. */
export const providerName = (providerId: string): string => byId.get(providerId)?.catalog.name ?? providerId;

/** A provider's action by name, with the provider's failure mapping; undefined when the provider offers no such action. */
export function findAction(providerId: string, actionName: string): { action: ProviderAction; actions: ProviderActions } | undefined {
  const actions = byId.get(providerId)?.actions;
  const action = actions?.list.find((candidate) => candidate.name === actionName);
  return actions && action ? { action, actions } : undefined;
}
