/**
 * The organisation's event webhooks (outgoing): the endpoints an admin
 * registered to receive integration events, each with its status, the
 * registration (whose signing secret is shown once, right then), its
 * delivery attempts and its removal. Admins only, as the API; hidden when
 * the API has no such routes.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type * as z from 'zod';
import type { attemptViewSchema, EndpointView } from '../outgoing/endpoints';
import { ApiError, type IntegrationsApi } from './api';
import { loadedList, type ViewDialog } from './dialogs';
import { humanise } from './messages';
import { absoluteTime, relativeTime } from './time';

type EventType = EndpointView['eventTypes'][number];
type Attempt = z.infer<typeof attemptViewSchema>;

/** Every event type an endpoint can subscribe to (a Record: a new type does not compile until it is named here). */
const EVENT_TYPES: Record<EventType, string> = {
  connected: 'Connected',
  disconnected: 'Disconnected',
  health_changed: 'Health changed',
  alert: 'Alert',
  synced: 'Synced',
};

const PATH = '/api/integrations/event-endpoints';

export class EventEndpoints {
  /** Undefined: not shown (not an admin, or not loaded). */
  private endpoints: EndpointView[] | undefined;
  private routeMissing = false;

  constructor(
    private readonly api: () => IntegrationsApi,
    private readonly open: (dialog: ViewDialog, opener: HTMLElement) => void,
    private readonly changed: () => void,
    private readonly now: () => number,
  ) {}

  /** Reads the endpoints; `allowed` false (a role the API refuses anyway) hides the section without asking. */
  async load(allowed = true): Promise<void> {
    if (!allowed || this.routeMissing) {
      this.endpoints = undefined;
      this.changed();
      return;
    }
    try {
      this.endpoints = (await this.api().get<{ endpoints: EndpointView[] }>(PATH)).endpoints;
    } catch (error) {
      this.endpoints = undefined;
      // No such route on this API: a 404, or a 400 where the path reads as an integration id.
      if (error instanceof ApiError && (error.status === 400 || error.status === 404)) this.routeMissing = true;
    }
    this.changed();
  }

  private when(iso: string) {
    return html`<time datetime=${iso} title=${absoluteTime(iso)}>${relativeTime(iso, this.now())}</time>`;
  }

  private status(endpoint: EndpointView) {
    if (endpoint.status === 'disabled') return html`Disabled${endpoint.disabledReason ? html`: ${humanise(endpoint.disabledReason)}` : nothing}`;
    if (endpoint.failingSince) return html`Failing since ${this.when(endpoint.failingSince)}`;
    return html`Enabled${endpoint.lastSuccessAt ? html`; last delivered ${this.when(endpoint.lastSuccessAt)}` : nothing}`;
  }

  render(): TemplateResult | typeof nothing {
    const endpoints = this.endpoints;
    if (endpoints === undefined) return nothing;
    const add = (event: Event) => this.open(new RegisterDialog(this.api(), () => this.load(), this.changed), event.currentTarget as HTMLElement);
    return html`<section aria-labelledby="hr-event-webhooks">
      <h2 id="hr-event-webhooks">Event webhooks</h2>
      <p class="muted">Your own systems can receive these integrations’ events (connected, disconnected, health, alerts, syncs), signed per Standard Webhooks.</p>
      ${endpoints.length === 0
        ? html`<p class="empty">No endpoint yet.</p>`
        : html`<table class="endpoints" role="table">
            <thead role="rowgroup"><tr role="row"><th role="columnheader" scope="col">Endpoint</th><th role="columnheader" scope="col">Events</th><th role="columnheader" scope="col">Status</th><th role="columnheader" scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody role="rowgroup">
              ${endpoints.map(
                (endpoint) => html`<tr role="row">
                  <td role="cell"><code class="url">${endpoint.url}</code>${endpoint.description ? html`<span class="account">${endpoint.description}</span>` : nothing}</td>
                  <td role="cell">${endpoint.eventTypes.map((type) => EVENT_TYPES[type]).join(', ')}</td>
                  <td role="cell">${this.status(endpoint)}</td>
                  <td role="cell" class="row-actions">
                    <button aria-label=${`Deliveries to ${endpoint.url}`} @click=${(event: Event) => this.open(new DeliveriesDialog(this.api(), endpoint, this.now, this.changed), event.currentTarget as HTMLElement)}>Deliveries</button>
                    <button aria-label=${`Remove ${endpoint.url}`} @click=${(event: Event) => this.open(new RemoveDialog(this.api(), endpoint, () => this.load()), event.currentTarget as HTMLElement)}>Remove</button>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      <p><button class="primary" @click=${add}>Add endpoint</button></p>
    </section>`;
  }
}

/** Registration: the form, then the signing secret, shown this once. */
class RegisterDialog implements ViewDialog {
  readonly title = 'Add an event webhook endpoint';
  private secret: string | undefined;
  private problem: string | undefined;
  private busy = false;

  constructor(
    private readonly api: IntegrationsApi,
    private readonly registered: () => Promise<void>,
    private readonly changed: () => void,
  ) {}

  private async submit(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const eventTypes = data.getAll('eventType').map(String);
    const description = String(data.get('description') ?? '').trim();
    this.busy = true;
    this.problem = undefined;
    this.changed();
    try {
      const created = await this.api.request<EndpointView & { secret: string }>('POST', PATH, {
        url: String(data.get('url') ?? '').trim(),
        eventTypes,
        ...(description ? { description } : {}),
      });
      this.secret = created.secret;
      await this.registered();
    } catch (error) {
      this.problem =
        error instanceof ApiError && (error.status === 400 || error.status === 409)
          ? error.message
          : 'The endpoint was not added. Try again in a moment.';
    } finally {
      this.busy = false;
      this.changed();
    }
  }

  render(close: () => void) {
    if (this.secret) {
      return {
        body: html`<p role="status">The endpoint was added. Its signing secret is shown <strong>only now</strong>: copy it into the receiving system, which uses it to verify each delivery.</p>
          <label for="endpoint-secret">Signing secret</label>
          <input id="endpoint-secret" class="confirm-input" readonly .value=${this.secret} @focus=${(event: Event) => (event.target as HTMLInputElement).select()} />`,
        actions: html`<button class="primary" @click=${close}>Done</button>`,
      };
    }
    return {
      body: html`<form id="register-endpoint" @submit=${(event: Event) => this.submit(event)}>
          <label for="endpoint-url">URL (https)</label>
          <input id="endpoint-url" name="url" type="url" class="confirm-input" required placeholder="https://hr.example.com/hooks/integrations" />
          <label for="endpoint-description">Description (optional)</label>
          <input id="endpoint-description" name="description" class="confirm-input" maxlength="200" />
          <fieldset>
            <legend>Events</legend>
            ${Object.entries(EVENT_TYPES).map(
              ([type, label]) => html`<label class="toggle"><input type="checkbox" name="eventType" value=${type} checked /> ${label}</label>`,
            )}
          </fieldset>
        </form>
        ${this.problem ? html`<p role="alert" class="banner error">${this.problem}</p>` : nothing}`,
      actions: html`<button @click=${close}>Cancel</button><button class="primary" type="submit" form="register-endpoint" ?disabled=${this.busy}>Add endpoint</button>`,
    };
  }
}

class DeliveriesDialog implements ViewDialog {
  readonly title: string;
  private deliveries: Attempt[] | 'failed' | undefined;

  constructor(
    api: IntegrationsApi,
    endpoint: EndpointView,
    private readonly now: () => number,
    changed: () => void,
  ) {
    this.title = `Deliveries to ${endpoint.url}`;
    api
      .get<{ deliveries: Attempt[] }>(`${PATH}/${endpoint.id}/deliveries?limit=50`)
      .then(
        (page) => (this.deliveries = page.deliveries),
        () => (this.deliveries = 'failed'),
      )
      .finally(changed);
  }

  render(close: () => void) {
    const deliveries = this.deliveries;
    const body = loadedList(
      deliveries === 'failed' ? undefined : deliveries,
      deliveries === 'failed' ? 'Could not load the deliveries. Try again in a moment.' : undefined,
      'Nothing delivered yet (kept 30 days).',
      (attempts) => html`<table>
                <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th></tr></thead>
                <tbody>
                  ${attempts.map(
                    (attempt) => html`<tr>
                      <td><time datetime=${attempt.at} title=${absoluteTime(attempt.at)}>${relativeTime(attempt.at, this.now())}</time>${attempt.attempt > 1 ? html` <span class="muted">(attempt ${attempt.attempt})</span>` : nothing}</td>
                      <td>${EVENT_TYPES[attempt.eventType]}</td>
                      <td>${attempt.outcome === 'succeeded' ? 'Delivered' : 'Failed'}${attempt.statusCode ? html` (HTTP ${attempt.statusCode})` : attempt.errorClass ? html` (${humanise(attempt.errorClass)})` : nothing}${attempt.deadLettered ? '; given up' : attempt.nextAttemptAt ? html`; retried ${relativeTime(attempt.nextAttemptAt, this.now())}` : nothing}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`,
    );
    return { body, actions: html`<button @click=${close}>Close</button>` };
  }
}

class RemoveDialog implements ViewDialog {
  readonly title = 'Remove this endpoint?';
  private problem: string | undefined;

  constructor(
    private readonly api: IntegrationsApi,
    private readonly endpoint: EndpointView,
    private readonly removed: () => Promise<void>,
  ) {}

  private async remove(close: () => void) {
    try {
      await this.api.request('DELETE', `${PATH}/${this.endpoint.id}`);
      await this.removed();
      close();
    } catch {
      this.problem = 'The endpoint was not removed. Try again in a moment.';
    }
  }

  render(close: () => void) {
    return {
      body: html`<p>Nothing more is sent to <code class="url">${this.endpoint.url}</code>; deliveries waiting to be retried are dropped.</p>
        ${this.problem ? html`<p role="alert">${this.problem}</p>` : nothing}`,
      actions: html`<button @click=${close}>Cancel</button><button class="danger" @click=${() => this.remove(close)}>Remove</button>`,
    };
  }
}
