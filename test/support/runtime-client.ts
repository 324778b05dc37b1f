import { follow, submitConsent } from './oauth-browser';

/** Talking to a running local runtime as the HR app would. */
export interface ApiAnswer<T = unknown> {
  status: number;
  success?: boolean;
  data: T;
  error?: { code: string; message: string };
  raw: string;
}

export function runtimeClient(baseUrl: string) {
  async function api<T = unknown>(method: string, path: string, token: string, body?: unknown): Promise<ApiAnswer<T>> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const raw = await response.text();
    const json = (raw ? JSON.parse(raw) : {}) as { success?: boolean; data: T; error?: { code: string; message: string } };
    return { status: response.status, ...json, raw };
  }

  /** The whole OAuth round trip with the sandbox's consent page; returns the new integration id. */
  async function connect(providerId: string, token: string): Promise<string> {
    const started = await api<{ url: string }>('POST', '/api/integrations/connect', token, { providerId });
    if (started.status !== 200) throw new Error(`connect answered ${started.status}: ${started.raw}`);
    const back = await follow(await submitConsent(started.data.url, 'allow'));
    return (await complete(back.location, token)).integrationId;
  }

  /** What the HR app does where the callback sends the browser: completes the pending grant with the initiator's token. */
  async function complete(landing: URL, token: string): Promise<{ integrationId: string; status: string }> {
    const pending = landing.searchParams.get('pending');
    if (!pending) throw new Error(`the callback did not return a pending grant: ${landing.toString()}`);
    const completed = await api<{ integrationId: string; status: string }>('POST', '/api/integrations/connect/complete', token, { pending });
    if (completed.status !== 200) throw new Error(`complete answered ${completed.status}: ${completed.raw}`);
    return completed.data;
  }

  async function sandbox(path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${baseUrl}/sandbox/_control/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  return { api, connect, complete, sandbox };
}
