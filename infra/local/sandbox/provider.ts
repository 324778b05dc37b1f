import type { FaultStatus } from './faults';
import type { SandboxRequest, SandboxResponse } from './http';
import type { ProviderId } from './state';

/** One fake provider. `request.path` is the path after the provider segment (`/slack/api/auth.test`). */
export interface ProviderModule {
  id: ProviderId;
  handle(request: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
  /** An injected failure in the provider's own shape (429 carries `Retry-After`). */
  fault(request: SandboxRequest, status: FaultStatus, retryAfterSeconds: number | undefined): SandboxResponse;
  /** The fake's own control routes, served at `/_control/<provider>/…` (`request.path` is the part after that). */
  control?(request: SandboxRequest): Promise<SandboxResponse>;
  /** Where the app receives this provider's pushes (the local runtime's webhook). */
  connectWebhook?(url: string): void;
}

export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}
