import type { OAuthClient } from '../oauth/types';

/** A provider's sync: resources, each pulled page by page with its own cursor. */
export interface RecordChange {
  externalId: string;
  /** `upsert` creates or updates; `delete` leaves a tombstone so consumers see the deletion. */
  op: 'upsert' | 'delete';
  data?: Record<string, unknown>;
}

export interface PullPage {
  changes: RecordChange[];
  /** The cursor to resume from after this page (next page, or the incremental token once complete). */
  cursor: string | undefined;
  /** True on the last page of this pass. */
  complete: boolean;
}

export interface ResourceSync {
  /** Pulls one page from `cursor` (undefined: a full pass from the start). */
  pull(input: { client: OAuthClient; accessToken: string; cursor: string | undefined }): Promise<PullPage>;
  /**
   * When a pass completes: keep the cursor (incremental providers: a sync or
   * delta token) or drop it so the next pass is full (listing APIs).
   */
  keepCursorAfterPass: boolean;
}

export interface ProviderSync {
  credentialKind: string;
  resources: Record<string, ResourceSync>;
}

/** The provider says the stored cursor is no longer valid (Google 410/404, Graph 410): start a full pass. */
export class CursorResetError extends Error {
  constructor(readonly resource: string) {
    super(`The ${resource} cursor was invalidated by the provider; a full resync is needed`);
    this.name = 'CursorResetError';
  }
}
