/**
 * Sandbox providers: faithful fakes of the Slack, Google and Microsoft OAuth
 * servers and of the API calls the app makes, with a control API for tests.
 * Host `<key>` of provider `<p>` is served at `<mount>/<p>/<key>` with the
 * real API's path after it (see `sandboxHosts`).
 */
export { Sandbox, type SandboxOptions } from './sandbox';
export { startSandboxServer, toSandboxPath, writeSandboxResponse, SANDBOX_PREFIX, type SandboxServer } from './server';
export { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS, SANDBOX_PROVIDER_HOSTS, sandboxHosts, type SandboxHosts } from './clients';
export type { SandboxRequest, SandboxResponse } from './http';
export type { ClockInfo, ExpireInput, LoggedRequest, RevokeInput } from './control';
export type { ActiveFault, FaultSpec, FaultStatus } from './faults';
export type { CalendarEventRecord, ProviderId, SentEmail, SlackMessage, TeamsMessage, TokenCounts } from './state';
