import type { FaultStatus } from './faults';
import type { SandboxRequest, SandboxResponse } from './http';
import type { ProviderId } from './state';

/** One fake provider. `request.path` is the path after the provider segment (`/slack/api/auth.test`). */
export interface ProviderModule {
  id: ProviderId;
  handle(request: SandboxRequest): SandboxResponse | Promise<SandboxResponse>;
  /** An injected failure in the provider's own shape (429 carries `Retry-After`). */
  fault(request: SandboxRequest, status: FaultStatus, retryAfterSeconds: number | undefined): SandboxResponse;
}

export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}
