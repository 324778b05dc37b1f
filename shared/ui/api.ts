/// <reference lib="dom" />
/**
 * The component's only way to the integrations API: every call carries the
 * host app's bearer token (from its `getToken`), and every answer is the
 * API's envelope, unwrapped here. A failed call throws an `ApiError` with the
 * status and the API's error code, so views can say what it means in plain
 * words instead of showing the raw message.
 */
export type TokenSource = () => string | undefined | null | Promise<string | undefined | null>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thrown before any request when the host app has no token to give. */
export class SignedOutError extends Error {
  constructor() {
    super('Not signed in');
    this.name = 'SignedOutError';
  }
}

interface Envelope<T> {
  success?: boolean;
  data?: T;
  error?: { code?: string; message?: string };
}

export class IntegrationsApi {
  constructor(
    private readonly base: string,
    private readonly getToken: TokenSource,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = await this.getToken();
    if (!token) throw new SignedOutError();
    const response = await fetch(`${this.base.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let envelope: Envelope<T> = {};
    try {
      envelope = text ? (JSON.parse(text) as Envelope<T>) : {};
    } catch {
      // A proxy's HTML error page: the status says enough.
    }
    if (!response.ok || envelope.success === false) {
      throw new ApiError(response.status, envelope.error?.code ?? 'http_error', envelope.error?.message ?? `HTTP ${response.status}`);
    }
    return envelope.data as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** Every page of a cursor-paginated list (`{…, nextCursor}`), concatenated. */
  async all<T, K extends string>(path: string, key: K): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const separator = path.includes('?') ? '&' : '?';
      const page: Record<K, T[]> & { nextCursor: string | null } = await this.get(cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
      items.push(...page[key]);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }
}
