import type * as z from 'zod';
import type { IntegrationRecord } from '../domain/integration';
import type { ProviderOAuth } from '../oauth/types';
import type { SubscriptionRecord } from '../store/subscriptions';
import type { ProviderSync } from '../sync/types';
import type { ProviderSubscriptions } from '../webhooks/types';

/** What every provider module exports. */
export type ProviderAvailability = 'active' | 'coming_soon';

export interface ProviderScope {
  scope: string;
  /** What the permission lets us do, as shown on the consent screen and in the catalog. */
  description: string;
  /** Requested when the caller names no scopes. */
  default: boolean;
  /** Always requested: the connection cannot work without it (identity, offline access). */
  required?: boolean;
}

export interface ProviderCatalogEntry {
  id: string;
  name: string;
  status: ProviderAvailability;
  description: string;
  features: string[];
  scopes: ProviderScope[];
}

export interface ProviderDefinition {
  catalog: ProviderCatalogEntry;
  /** Present for providers that can be connected (status `active`). */
  oauth?: ProviderOAuth;
  /** Push channels the provider needs opened and renewed (Slack's events need none). */
  subscriptions?: ProviderSubscriptions;
  /** The resources the sync engine pulls. */
  sync?: ProviderSync;
  /** What the HR platform may do through the provider on the organisation's behalf (post, book, mail). */
  actions?: ProviderActions;
  /** What deploys, the local runtime and the logs need to know about the provider; see ProviderWiring. */
  wiring?: ProviderWiring;
  /** Health check: a cheap live call with the stored token (Slack auth.test, Google userinfo, Graph /me). */
  probe?: ProviderProbe;
  /** Webhook test event: builds a delivery the provider's real webhook verifies and marks as a test. */
  webhookTest?: ProviderWebhookTest;
}

export interface ProviderProbe {
  credentialKind: string;
  /** Resolves when the token works; throws the provider's ProviderError when refused. */
  run(accessToken: string): Promise<void>;
}

/** A request to the provider's own webhook URL: what the provider would send, self-authenticated. */
export interface TestDelivery {
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
  /** The push channel it goes through (Google, Microsoft). */
  subscriptionId?: string;
}

export interface ProviderWebhookTest {
  /**
   * The delivery for the integration, or undefined when it has no channel
   * that can carry one. `issueTestToken` stores a one-time secret for a
   * channel (for providers whose channel secrets are kept only as hashes).
   */
  build(input: {
    integration: IntegrationRecord;
    subscriptions: readonly SubscriptionRecord[];
    testId: string;
    issueTestToken: (subscription: SubscriptionRecord) => Promise<string>;
  }): Promise<TestDelivery | undefined>;
}

/**
 * A provider's wiring beyond its own folder, declared here so nothing else
 * names the provider: the stack, the local runtime and the redactor read it
 * from the registry. The webhook itself is the provider's manifest entry
 * (`trigger.kind: 'webhook'`); its URL reaches the functions that open
 * subscriptions as `WEBHOOK_URL_<PROVIDER>`.
 */
export interface ProviderWiring {
  /** Keys besides `<ID>_CLIENT_ID` and `<ID>_CLIENT_SECRET` the provider credentials secret may hold (`MICROSOFT_TENANT`). */
  secretKeys?: readonly string[];
  /** The shapes of the provider's tokens (global regexes): masked wherever they appear in a log line. */
  tokenPatterns?: readonly RegExp[];
  /** Deploy settings taken from CDK context: `env` is set on the functions that open subscriptions, or on the provider's webhook. */
  deployContext?: ReadonlyArray<{ context: string; env: string; target: 'subscribers' | 'webhook' }>;
  /** Variables the local runtime sets for the provider (never overriding the environment), given where its webhook and sandbox are. */
  localEnv?(input: { webhookUrl: string; sandboxUrl: string; real: boolean }): Record<string, string>;
  /** Lines the local runtime prints at start (Notion: how to pin its webhook's verification token); never a secret. */
  localConsole?: readonly string[];
}

/** What an action run produced, normalised across providers. */
export interface ActionResult {
  /**
   * The provider's ids of what the action created (channel id, message ts,
   * event id): returned and recorded in the action history. Never content
   * or recipients, which the history must not keep.
   */
  ids: Record<string, string>;
  /** Anything else the caller gets back (links, names); not recorded. */
  details?: Record<string, string | boolean>;
}

/** An action's input, validated and bound: it only needs a token to run. */
export type ActionValidation =
  | { success: true; run: (accessToken: string) => Promise<ActionResult> }
  | { success: false; error: z.ZodError };

export interface ProviderAction {
  /** `<provider>.<verb>`, e.g. `slack.sendMessage`. */
  name: string;
  /** The stored credential the action runs with (Slack: the bot token). */
  credentialKind: string;
  /** The scope the action needs: named in the 403 when the grant lacks it. */
  requiredScope: string;
  validate(input: unknown): ActionValidation;
}

/** How the API answers a provider's refusal of an action. */
export type ActionFailure = 'missing_scope' | 'name_taken' | 'not_found';

export interface ProviderActions {
  list: readonly ProviderAction[];
  /** The provider's own error codes (Slack `channel_not_found`, Graph `Authorization_RequestDenied`…) that mean something to the caller. */
  failureOf(providerErrorCode: string): ActionFailure | undefined;
}
