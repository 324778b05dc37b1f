/**
 * Sandbox providers: faithful fakes of the Slack, Google, Microsoft, Asana
 * and Notion OAuth servers and of the API calls the app makes, with a
 * control API for tests (the newer fakes' own under `/_control/<provider>/`:
 * see asana.ts and notion.ts).
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
 *
 * Sync data (data.ts, data-ops.ts): Slack `users.list` / `conversations.list`
 * (cursor pagination), Google Calendar `events.list` with sync tokens (410
 * `fullSyncRequired`), Drive `changes.list` / `files.list`, Gmail
 * `history.list` (404 when too old) / `messages.list` / `profile`, Graph
 * `calendarView/delta`, `events/delta` and `drive/root/delta` (410
 * `SyncStateNotFound` / `resyncRequired`). Tests change the data with
 * `changeData` (`POST /_control/data/{provider}`: add, update, delete,
 * bulk-add, invalidate-cursors, join) and read it with `dataItems`.
 *
 * Slack Events API (slack-events.ts): `slackEvent` (`POST
 * /_control/slack/events`) sends signed `event_callback` envelopes and retries
 * like Slack; channel creations, joins and `chat.postMessage` send their
 * events automatically once `slackEventsUrl` is configured;
 * `slackUrlVerification` performs the `url_verification` handshake.
 */
export { Sandbox, type SandboxOptions } from './sandbox';
export { startSandboxServer, toSandboxPath, writeSandboxResponse, SANDBOX_PREFIX, type SandboxServer } from './server';
export { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS, SANDBOX_PROVIDER_HOSTS, sandboxHosts, type SandboxHosts } from './clients';
export { DEFAULT_SLACK_SIGNING_SECRET } from './push';
export type { SandboxRequest, SandboxResponse } from './http';
export type {
  ClockInfo,
  DataItemsQuery,
  DataItemsResult,
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
export { DATA_RESOURCES, DEFAULT_DATA_RETENTION_SECONDS, type DataResource } from './data';
export type { DataItemInfo, DataOp, DataOpResult } from './data-ops';
export { SLACK_LIST_LIMITS } from './slack';
export { ASANA_PAGE_LIMITS } from './asana-api';
export { NOTION_PAGE_SIZE } from './notion-api';
export { NOTION_VERSIONS } from './notion';
export { GOOGLE_PAGE_LIMITS } from './google-sync';
export { GRAPH_DELTA_PAGE_SIZES, GRAPH_SYNC_RESET_CODES } from './microsoft-sync';
export { signSlackRequest, type SlackEventInput, type SlackEventResult, type SlackUrlVerificationInput, type SlackUrlVerificationResult } from './slack-events';
export type {
  CalendarEventRecord,
  DeliveryRecord,
  ProviderId,
  SentEmail,
  SlackEventAttempt,
  SlackEventDelivery,
  SlackMessage,
  TeamsMessage,
  TokenCounts,
} from './state';
