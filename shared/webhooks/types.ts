import type { IntegrationRecord } from '../domain/integration';
import type { OAuthClient } from '../oauth/types';
import type { SubscriptionRecord } from '../store/subscriptions';

/**
 * Where subscriptions are kept. A provider that names the channel itself
 * (Google) saves it before asking for it: the provider's first message can
 * arrive before the answer does.
 */
export interface SubscriptionStore {
  save(record: SubscriptionRecord): Promise<void>;
  remove(record: SubscriptionRecord): Promise<void>;
}

/** A provider's push subscriptions: opened at connect, renewed before they lapse, closed at disconnect. */
export interface ProviderSubscriptions {
  /** The credential whose access token manages subscriptions. */
  credentialKind: string;
  open(input: { client: OAuthClient; accessToken: string; integration: IntegrationRecord; webhookUrl: string; store: SubscriptionStore }): Promise<SubscriptionRecord[]>;
  /**
   * Renews one subscription; returns what replaces it (the same id for Graph, a new channel for Google),
   * or undefined when nothing should (what it watched is gone: an archived or deleted Asana project);
   * the renewal job then forgets and stops it.
   */
  renew(input: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord; webhookUrl: string; store: SubscriptionStore }): Promise<SubscriptionRecord | undefined>;
  close(input: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord }): Promise<void>;
  /**
   * A step outside the product that every channel of the provider waits on, as a reason code (Notion:
   * the app operator pinning the webhook's verification token); undefined once done. Until then its
   * channels show `off` with that code (GET …/webhooks).
   */
  pendingStep?(): Promise<string | undefined>;
}
