import type { IntegrationRecord } from '../domain/integration';
import type { OAuthClient } from '../oauth/types';
import type { SubscriptionRecord } from '../store/subscriptions';

/** A provider's push subscriptions: opened at connect, renewed before they lapse, closed at disconnect. */
export interface ProviderSubscriptions {
  /** The credential whose access token manages subscriptions. */
  credentialKind: string;
  open(input: { client: OAuthClient; accessToken: string; integration: IntegrationRecord; webhookUrl: string }): Promise<SubscriptionRecord[]>;
  /** Renews one subscription; returns what replaces it (the same id for Graph, a new channel for Google). */
  renew(input: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord; webhookUrl: string }): Promise<SubscriptionRecord>;
  close(input: { client: OAuthClient; accessToken: string; subscription: SubscriptionRecord }): Promise<void>;
}
