import type { EventType } from '../shared/events/catalog';

/**
 * Every Lambda of the system, in one list. The CDK stack creates one function
 * per entry (route, Function URL, schedule or event rule, and IAM grants
 * derived from `access`); the local runtime serves the same entries with the
 * same event shapes. Neither can drift from the other.
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type Trigger =
  /** API Gateway HTTP API route; `jwt` routes sit behind the JWT authorizer. */
  | { kind: 'http'; method: HttpMethod; path: string; auth: 'jwt' | 'public' }
  /** Provider webhook: a Function URL in AWS (auth NONE, verified in code); `path` locally. */
  | { kind: 'webhook'; provider: string; path: string }
  /** EventBridge Scheduler schedule; `rate(N minutes|hours)`. */
  | { kind: 'schedule'; expression: string }
  /** EventBridge rule on the integrations bus for these detail types (one rule, any of them). */
  | { kind: 'event'; detailTypes: readonly [EventType, ...EventType[]] };

export interface Access {
  /** `write` includes read. */
  table: 'none' | 'read' | 'write';
  /** Token key (KMS): `decrypt` opens tokens; `encrypt` also seals new ones (creates branch keys). */
  tokenKey: 'none' | 'decrypt' | 'encrypt';
  /** May PutEvents on the integrations bus. */
  publishEvents: boolean;
  /** Talks to providers: reads their client credentials (Secrets Manager in AWS). */
  providerCredentials?: boolean;
  /**
   * Knows the URLs providers deliver to (`WEBHOOK_URL_<PROVIDER>`) without
   * talking to providers; functions with `providerCredentials` get them too.
   */
  webhookUrls?: boolean;
}

export interface FunctionSpec {
  /** Unique, kebab-case; becomes the construct id and the local job name. */
  name: string;
  /** Handler module, relative to the repository root; it exports `handler`. */
  entry: string;
  description: string;
  trigger: Trigger;
  access: Access;
  timeoutSeconds: number;
  memoryMb: number;
  /**
   * Caps concurrent executions. For event-driven workers it paces bursts
   * (100,000 SyncRequested at once must not become 100,000 syncs hitting
   * DynamoDB and the providers' rate limits): throttled asynchronous events
   * wait and are retried by Lambda for up to six hours, then dead-lettered.
   */
  reservedConcurrency?: number;
}

const readOnly: Access = { table: 'read', tokenKey: 'none', publishEvents: false };

export const manifest: readonly FunctionSpec[] = [
  {
    name: 'list-providers',
    entry: 'functions/api/list-providers.ts',
    description: 'GET /api/integrations/providers: the provider catalog',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/providers', auth: 'jwt' },
    access: { table: 'none', tokenKey: 'none', publishEvents: false },
    timeoutSeconds: 5,
    // 512 MB (was 256): a rare call, so the cost is nil, and a cold start at 256 MB gets half the CPU to import with.
    memoryMb: 512,
  },
  // --- the API's contract ---
  {
    name: 'openapi-document',
    entry: 'functions/api/openapi.ts',
    description: 'GET /api/openapi.json: the OpenAPI 3.1 document of this API (public)',
    trigger: { kind: 'http', method: 'GET', path: '/api/openapi.json', auth: 'public' },
    access: { table: 'none', tokenKey: 'none', publishEvents: false },
    timeoutSeconds: 5,
    // 512 MB (was 256): as list-providers; building the document from every route's schemas is CPU work.
    memoryMb: 512,
  },
  {
    name: 'list-integrations',
    entry: 'functions/api/list-integrations.ts',
    description: "GET /api/integrations: the organisation's integrations",
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'get-integration',
    entry: 'functions/api/get-integration.ts',
    description: 'GET /api/integrations/{id}: one integration',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'connect',
    entry: 'functions/api/connect.ts',
    description: 'POST /api/integrations/connect: start OAuth',
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/connect', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'none', publishEvents: false, providerCredentials: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'oauth-callback',
    entry: 'functions/api/oauth-callback.ts',
    description: 'GET /api/integrations/callback/{providerId}: exchange the code, keep the grant pending for its initiator (public; the state authenticates)',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/callback/{providerId}', auth: 'public' },
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: false, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'complete-connection',
    entry: 'functions/api/complete-connection.ts',
    description: 'POST /api/integrations/connect/complete: the initiator turns the pending grant into an integration',
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/connect/complete', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'reconnect',
    entry: 'functions/api/reconnect.ts',
    description: 'POST /api/integrations/{id}/reconnect: OAuth again, same integration id',
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/{id}/reconnect', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'none', publishEvents: false, providerCredentials: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'disconnect',
    entry: 'functions/api/disconnect.ts',
    description: 'DELETE /api/integrations/{id}: revoke, drop tokens, keep history',
    trigger: { kind: 'http', method: 'DELETE', path: '/api/integrations/{id}', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'decrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'run-action',
    entry: 'functions/api/run-action.ts',
    description: "POST /api/integrations/{id}/actions/{action}: run a provider action with the integration's token",
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/{id}/actions/{action}', auth: 'jwt' },
    // `encrypt`: a refresh on a 401 re-seals the tokens; a dead grant found by the call publishes the disconnect.
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'sync-now',
    entry: 'functions/api/sync-now.ts',
    description: 'POST /api/integrations/{id}/sync: queue a manual sync',
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/{id}/sync', auth: 'jwt' },
    access: { table: 'read', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'list-records',
    entry: 'functions/api/list-records.ts',
    description: 'GET /api/integrations/{id}/records: synced records',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/records', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'list-sync-logs',
    entry: 'functions/api/list-sync-logs.ts',
    description: 'GET /api/integrations/{id}/sync-logs: sync history, newest first',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/sync-logs', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'get-settings',
    entry: 'functions/api/get-settings.ts',
    description: 'GET /api/integrations/{id}/settings: sync settings',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/settings', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'update-settings',
    entry: 'functions/api/update-settings.ts',
    description: 'PATCH /api/integrations/{id}/settings: change sync settings',
    trigger: { kind: 'http', method: 'PATCH', path: '/api/integrations/{id}/settings', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'none', publishEvents: false },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'export-org',
    entry: 'functions/api/export-org.ts',
    description: 'GET /api/integrations/export: GDPR access and portability for the organisation',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/export', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'export-integration',
    entry: 'functions/api/export-integration.ts',
    description: 'GET /api/integrations/{id}/export: the data of one integration',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/export', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'erase-integration',
    entry: 'functions/api/erase-integration.ts',
    description: 'DELETE /api/integrations/{id}/data: GDPR erasure (hidden now, purged after 30 days)',
    trigger: { kind: 'http', method: 'DELETE', path: '/api/integrations/{id}/data', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'decrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'list-consents',
    entry: 'functions/api/list-consents.ts',
    description: 'GET /api/integrations/{id}/consents: the consent history',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/consents', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  // --- troubleshooting: webhook status, logs and test events, live health check, alerts ---
  {
    name: 'list-webhooks',
    entry: 'functions/api/list-webhooks.ts',
    description: "GET /api/integrations/{id}/webhooks: the integration's push channels and the URL the provider calls",
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/webhooks', auth: 'jwt' },
    access: { table: 'read', tokenKey: 'none', publishEvents: false, webhookUrls: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'list-webhook-logs',
    entry: 'functions/api/list-webhook-logs.ts',
    description: 'GET /api/integrations/{id}/webhook-logs: recent webhook deliveries, newest first',
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/{id}/webhook-logs', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'test-webhook',
    entry: 'functions/api/test-webhook.ts',
    description: "POST /api/integrations/{id}/webhooks/test: a self-signed test delivery through the provider's webhook URL",
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/{id}/webhooks/test', auth: 'jwt' },
    // `write`: the one-time test secret's item; providerCredentials: Slack's signing secret and the webhook URLs. No tokens.
    access: { table: 'write', tokenKey: 'none', publishEvents: false, providerCredentials: true },
    timeoutSeconds: 15,
    memoryMb: 512,
  },
  {
    name: 'health-check',
    entry: 'functions/api/health-check.ts',
    description: "POST /api/integrations/{id}/health-check: a live probe with the integration's token; health follows it",
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/{id}/health-check', auth: 'jwt' },
    // `encrypt`: a refresh on a 401 re-seals the tokens; events: health changes, a dead grant's disconnect.
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 29,
    memoryMb: 1024,
  },
  {
    name: 'list-alerts',
    entry: 'functions/api/list-alerts.ts',
    description: "GET /api/integrations/alerts: the organisation's open alerts",
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/alerts', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'slack-webhook',
    entry: 'functions/webhooks/slack.ts',
    description: 'Slack Events API: verify, deduplicate, route by team, publish',
    trigger: { kind: 'webhook', provider: 'slack', path: '/api/webhooks/slack' },
    access: { table: 'write', tokenKey: 'none', publishEvents: true, providerCredentials: true },
    // Slack wants its answer within 3 seconds: every call inside gets only what is left of them (shared/deadline.ts).
    timeoutSeconds: 3,
    memoryMb: 512,
  },
  {
    name: 'google-webhook',
    entry: 'functions/webhooks/google.ts',
    description: 'Google Calendar/Drive channel notifications and Gmail Pub/Sub pushes: verify, deduplicate, publish',
    trigger: { kind: 'webhook', provider: 'google', path: '/api/webhooks/google' },
    access: { table: 'write', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'microsoft-webhook',
    entry: 'functions/webhooks/microsoft.ts',
    description: 'Microsoft Graph change and lifecycle notifications: validation echo, clientState check, deduplicate, publish',
    trigger: { kind: 'webhook', provider: 'microsoft', path: '/api/webhooks/microsoft' },
    access: { table: 'write', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'asana-webhook',
    entry: 'functions/webhooks/asana.ts',
    description: "Asana webhooks: keep the handshake's X-Hook-Secret, verify X-Hook-Signature, deduplicate, publish",
    trigger: { kind: 'webhook', provider: 'asana', path: '/api/webhooks/asana' },
    access: { table: 'write', tokenKey: 'none', publishEvents: true },
    // Asana wants an answer within 10 seconds.
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'notion-webhook',
    entry: 'functions/webhooks/notion.ts',
    description: 'Notion webhooks: keep the verification token, verify X-Notion-Signature, deduplicate, route by workspace, publish',
    trigger: { kind: 'webhook', provider: 'notion', path: '/api/webhooks/notion' },
    access: { table: 'write', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'dispatch-sync',
    entry: 'functions/jobs/dispatch-sync.ts',
    description: 'Every 15 minutes: publish SyncRequested for integrations that are due',
    trigger: { kind: 'schedule', expression: 'rate(15 minutes)' },
    access: { table: 'read', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 300,
    // 1024 MB (was 512): at 100,000 integrations one run reads the due index and publishes 100,000 events, CPU work that
    // must fit its 5 minutes; it runs 96 times a day whatever the count, so the memory costs a fixed few dollars a month.
    memoryMb: 1024,
  },
  {
    name: 'renew-subscriptions',
    entry: 'functions/jobs/renew-subscriptions.ts',
    description: 'Hourly: renew Google channels, Graph subscriptions and Gmail watches before they lapse',
    trigger: { kind: 'schedule', expression: 'rate(1 hour)' },
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 300,
    memoryMb: 512,
  },
  {
    name: 'refresh-tokens',
    entry: 'functions/jobs/refresh-tokens.ts',
    description: 'Every 15 minutes: refresh tokens that expire before the next run',
    trigger: { kind: 'schedule', expression: 'rate(15 minutes)' },
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 300,
    // 512 MB (was 1024): each refresh is a provider round trip and a few table writes; the wait is what is billed.
    memoryMb: 512,
  },
  {
    name: 'revoke-abandoned-grants',
    entry: 'functions/jobs/revoke-abandoned-grants.ts',
    description: 'Every 5 minutes: revoke the pending grants their initiator did not complete within 10 minutes',
    trigger: { kind: 'schedule', expression: 'rate(5 minutes)' },
    access: { table: 'write', tokenKey: 'decrypt', publishEvents: false, providerCredentials: true },
    timeoutSeconds: 120,
    memoryMb: 512,
  },
  {
    name: 'sync-worker',
    entry: 'functions/jobs/sync-worker.ts',
    description: 'On SyncRequested: pull changes for one integration',
    trigger: { kind: 'event', detailTypes: ['SyncRequested'] },
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: true, providerCredentials: true },
    timeoutSeconds: 900,
    // Right-sized from the bench's cost model: a sync mostly waits on the provider and DynamoDB, and Lambda bills
    // the wait, so 512 MB (was 1024) halves the largest Lambda term (sync-worker is about 77% of the GB-seconds).
    // 150 (was 50): at ~0.5 s a sync, 50 workers serve 90,000 syncs per 15 minutes, fewer than 100,000 integrations
    // dispatch; 150 serve 270,000, leaving room for webhook-requested and full syncs.
    memoryMb: 512,
    reservedConcurrency: 150,
  },
  // --- outgoing webhooks (README: "Outgoing webhooks") ---
  {
    name: 'create-event-endpoint',
    entry: 'functions/api/create-event-endpoint.ts',
    description: 'POST /api/integrations/event-endpoints: register an outgoing webhook endpoint (its secret is shown once)',
    trigger: { kind: 'http', method: 'POST', path: '/api/integrations/event-endpoints', auth: 'jwt' },
    // `encrypt`: the signing secret is sealed with the vault.
    access: { table: 'write', tokenKey: 'encrypt', publishEvents: false },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'list-event-endpoints',
    entry: 'functions/api/list-event-endpoints.ts',
    description: "GET /api/integrations/event-endpoints: the organisation's outgoing webhook endpoints",
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/event-endpoints', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'delete-event-endpoint',
    entry: 'functions/api/delete-event-endpoint.ts',
    description: 'DELETE /api/integrations/event-endpoints/{endpointId}: delete an outgoing webhook endpoint',
    trigger: { kind: 'http', method: 'DELETE', path: '/api/integrations/event-endpoints/{endpointId}', auth: 'jwt' },
    access: { table: 'write', tokenKey: 'none', publishEvents: false },
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'list-event-endpoint-deliveries',
    entry: 'functions/api/list-event-endpoint-deliveries.ts',
    description: "GET /api/integrations/event-endpoints/{endpointId}/deliveries: an endpoint's delivery attempts",
    trigger: { kind: 'http', method: 'GET', path: '/api/integrations/event-endpoints/{endpointId}/deliveries', auth: 'jwt' },
    access: readOnly,
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  {
    name: 'deliver-event-webhooks',
    entry: 'functions/jobs/deliver-event-webhooks.ts',
    description: "On the HR platform's events: sign and POST them to the organisation's endpoints, first attempt at once",
    trigger: { kind: 'event', detailTypes: ['integration.connected', 'integration.disconnected', 'integration.health_changed', 'integration.alert', 'integration.synced'] },
    // `decrypt` opens the signing secrets; `publishEvents`: disabling an endpoint raises an alert.
    access: { table: 'write', tokenKey: 'decrypt', publishEvents: true },
    // Ten endpoints at most per organisation, ten attempts at a time, ten seconds each.
    timeoutSeconds: 60,
    memoryMb: 512,
    reservedConcurrency: 20,
  },
  {
    name: 'retry-event-webhooks',
    entry: 'functions/jobs/retry-event-webhooks.ts',
    description: 'Every minute: outgoing webhook attempts that are due (retries with backoff, dead letters after a day)',
    trigger: { kind: 'schedule', expression: 'rate(1 minute)' },
    access: { table: 'write', tokenKey: 'decrypt', publishEvents: true },
    timeoutSeconds: 120,
    memoryMb: 512,
  },
];

export function findFunction(name: string): FunctionSpec | undefined {
  return manifest.find((spec) => spec.name === name);
}
