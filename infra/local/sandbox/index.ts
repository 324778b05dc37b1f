/**
 * Sandbox providers: faithful fakes of the Slack, Google and Microsoft OAuth
 * servers and of the API calls the app makes, with a control API for tests.
 * Host `<key>` of provider `<p>` is served at `<mount>/<p>/<key>` with the
 * real API's path after it (see `sandboxHosts`).
 *
 * Push notifications: Google Calendar/Drive channels (`events.watch`,
 * `changes.watch`, `channels.stop`), Gmail `users.watch` with Pub/Sub pushes
 * signed RS256 by the sandbox's key (JWKS at `/google/www/oauth2/v3/certs`),
 * and Graph `/subscriptions` with the validation handshake and lifecycle
 * events. Deliveries go to the app with global `fetch`; tests trigger them
 * with `googleNotify`, `gmailPush`, `graphNotify`, `graphLifecycle` (or the
 * matching `/_control/…` routes) and read them with `channels`.
 */
export { Sandbox, type SandboxOptions } from './sandbox';
export { startSandboxServer, toSandboxPath, writeSandboxResponse, SANDBOX_PREFIX, type SandboxServer } from './server';
export { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS, SANDBOX_PROVIDER_HOSTS, sandboxHosts, type SandboxHosts } from './clients';
export type { SandboxRequest, SandboxResponse } from './http';
export type {
  ClockInfo,
  ExpireInput,
  GmailPushInput,
  GoogleNotifyInput,
  GoogleResourceState,
  GraphLifecycleInput,
  GraphNotifyInput,
  LoggedRequest,
  RevokeInput,
} from './control';
export { GMAIL_PUSH_SERVICE_ACCOUNT, GMAIL_PUSH_SUBSCRIPTION, GOOGLE_JWKS_PATH, type GmailPushResult, type GoogleNotifyResult } from './google-push';
export { GRAPH_VALIDATION_FAILED, graphResourceKind, type GraphLifecycleResult, type GraphNotifyResult } from './microsoft-push';
export type { ChannelInfo, ChannelLimits, GraphResourceKind, PublicJwks, PushConfig, PushConfigInput } from './push';
export type { ActiveFault, FaultSpec, FaultStatus } from './faults';
export type { CalendarEventRecord, DeliveryRecord, ProviderId, SentEmail, SlackMessage, TeamsMessage, TokenCounts } from './state';
