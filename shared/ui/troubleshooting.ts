/**
 * The troubleshooting side of the page, as the user guide's checklist asks
 * for it: the banner of open alerts, and one dialog per integration with a
 * live health check, the state of its real-time updates (webhook channels,
 * expiry, renewal, last delivery), a test event sent through the real
 * webhook, and the recent deliveries. A part whose route the API does not
 * have (a 404 for the route, or a 400 where the path reads as an id) is
 * left out instead of breaking the page.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { AlertView } from '../domain/alerts';
import type { HealthCheckResult } from '../domain/health-check';
import type { WebhookChannel, WebhookTestResult } from '../domain/webhook-status';
import type { WebhookLog } from '../store/webhook-logs';
import { ApiError, type IntegrationsApi } from './api';
import type { MenuItem } from './action-menu';
import { loadedList, type ViewDialog } from './dialogs';
import { describeReason, humanise } from './messages';
import { resourceLabel, type Integration } from './model';
import { absoluteTime, relativeTime } from './time';

const TROUBLESHOOT = 'troubleshoot';

export const troubleshootingItems = (): MenuItem[] => [{ id: TROUBLESHOOT, label: 'Troubleshoot' }];

/**
 * The route is not there (an older deployment): API Gateway's bare 404, or the local runtime's
 * "No route"; not the API's own 404 for an integration. Under `/api/integrations/` a missing
 * one-segment route reads as an integration id: a 400 there means the same.
 */
const routeMissing = (error: unknown, oneSegment = false) =>
  error instanceof ApiError &&
  ((error.status === 404 && (error.code !== 'not_found' || error.message.startsWith('No route'))) || (oneSegment && error.status === 400));

const CHANNEL_KINDS: Record<WebhookChannel['kind'], string> = {
  events_api: 'Event subscription (all events)',
  push_channel: 'Push channel',
  gmail_watch: 'Gmail watch',
  graph_subscription: 'Graph subscription',
  webhook: 'Webhook',
};
const CHANNEL_STATUS: Record<WebhookChannel['status'], string> = { active: 'Active', renewal_failing: 'Renewal failing', lapsed: 'Lapsed', off: 'Off' };
const DELIVERY_OUTCOMES: Record<WebhookLog['outcome'], string> = {
  accepted: 'Accepted',
  duplicate: 'Duplicate (already processed)',
  rejected: 'Rejected',
  dropped: 'Dropped (integration not connected)',
  test: 'Test event, verified',
};

function healthSentence(result: HealthCheckResult, providerName: string): string {
  if (result.result === 'healthy') return `Working: ${providerName} accepted this connection’s access.`;
  if (result.result === 'degraded') return `${providerName} did not answer properly (${humanise(result.errorCode ?? 'error')}); it may be a passing problem. Try again later.`;
  return `${providerName} no longer accepts this connection (${humanise(result.errorCode ?? 'revoked')}). Reconnect it.`;
}

function testSentence(result: WebhookTestResult): string {
  if (result.outcome === 'test') return `The test event arrived and was verified (HTTP ${result.status}).`;
  if (result.outcome === 'rejected') return `The webhook refused the test event (HTTP ${result.status}${result.reason ? `: ${humanise(result.reason)}` : ''}).`;
  if (result.outcome === 'unreachable') return 'The webhook could not be reached. Check that the webhook URL is public and configured at the provider.';
  return `The webhook answered something unexpected (HTTP ${result.status}).`;
}

/** One integration's troubleshooting dialog: loads its parts when opened, runs the checks on demand. */
export class TroubleshootingDialog implements ViewDialog {
  readonly title: string;
  private status: { webhookUrl: string | null; channels: WebhookChannel[] } | 'missing' | 'failed' | undefined;
  private logs: WebhookLog[] | 'missing' | 'failed' | undefined;
  private health: HealthCheckResult | undefined;
  private test: WebhookTestResult | undefined;
  private problem: string | undefined;
  private running: 'health' | 'test' | undefined;
  /** Checks whose route the API lacks. */
  private readonly missing = new Set<'health' | 'test'>();

  constructor(
    readonly integration: Integration,
    private readonly api: IntegrationsApi,
    private readonly manage: boolean,
    private readonly changed: () => void,
    private readonly now: () => number,
  ) {
    this.title = `Troubleshoot ${integration.providerName}`;
    void this.load();
  }

  private async load() {
    const base = `/api/integrations/${this.integration.id}`;
    await Promise.all([
      this.api.get<{ webhookUrl: string | null; channels: WebhookChannel[] }>(`${base}/webhooks`).then(
        (status) => (this.status = status),
        (error: unknown) => (this.status = routeMissing(error) ? 'missing' : 'failed'),
      ),
      this.api.get<{ logs: WebhookLog[] }>(`${base}/webhook-logs?limit=20`).then(
        (page) => (this.logs = page.logs),
        (error: unknown) => (this.logs = routeMissing(error) ? 'missing' : 'failed'),
      ),
    ]);
    this.changed();
  }

  private async run(check: 'health' | 'test') {
    this.running = check;
    this.problem = undefined;
    this.changed();
    const path = `/api/integrations/${this.integration.id}/${check === 'health' ? 'health-check' : 'webhooks/test'}`;
    try {
      if (check === 'health') this.health = await this.api.request<HealthCheckResult>('POST', path);
      else this.test = await this.api.request<WebhookTestResult>('POST', path);
      if (check === 'test') await this.load();
    } catch (error) {
      if (routeMissing(error)) this.missing.add(check);
      else this.problem = this.refusal(error);
    } finally {
      this.running = undefined;
      this.changed();
    }
  }

  private refusal(error: unknown): string {
    if (!(error instanceof ApiError) || error.status !== 409) return 'The check could not run. Try again in a moment.';
    if (error.code === 'no_webhook_channel') return `${this.integration.providerName} has no real-time channel that can carry a test event; scheduled syncs still run.`;
    return 'Only a connected integration can be checked; reconnect it first.';
  }

  private renderChecks(): TemplateResult | typeof nothing {
    if (!this.manage || this.integration.status !== 'active') return nothing;
    const button = (check: 'health' | 'test', label: string) =>
      this.missing.has(check) ? nothing : html`<button ?disabled=${this.running !== undefined} @click=${() => this.run(check)}>${this.running === check ? 'Checking…' : label}</button>`;
    return html`<section aria-labelledby="ts-checks">
      <h3 id="ts-checks">Checks</h3>
      <p>${button('health', 'Run health check')} ${typeof this.status === 'object' && this.status.channels.length > 0 ? button('test', 'Send test event') : nothing}</p>
      <div role="status">
        ${this.health ? html`<p class="check-result">${healthSentence(this.health, this.integration.providerName)}</p>` : nothing}
        ${this.test ? html`<p class="check-result">${testSentence(this.test)}</p>` : nothing}
        ${this.problem ? html`<p>${this.problem}</p>` : nothing}
      </div>
    </section>`;
  }

  private renderChannels(): TemplateResult | typeof nothing {
    const status = this.status;
    if (status === 'missing') return nothing;
    const loaded = typeof status === 'object' ? status : undefined;
    const body = loadedList(
      loaded?.channels,
      status === 'failed' ? 'Could not load the webhook status.' : undefined,
      `No real-time channel is open${loaded?.webhookUrl ? '' : ' (webhooks are not configured on this platform)'}; scheduled syncs still run.`,
      (channels) => html`<table>
                <thead><tr><th scope="col">Channel</th><th scope="col">Status</th><th scope="col">Renewal</th><th scope="col">Last delivery</th></tr></thead>
                <tbody>
                  ${channels.map(
                    (channel) => html`<tr>
                      <td>${CHANNEL_KINDS[channel.kind]}${channel.kind === 'events_api' ? nothing : `: ${resourceLabel(channel.resource)}`}</td>
                      <td>${CHANNEL_STATUS[channel.status]}${channel.lastRenewalError ? html` <span class="muted">(${humanise(channel.lastRenewalError)})</span>` : nothing}</td>
                      <td>${channel.expiresAt ? html`expires ${this.when(channel.expiresAt)}` : 'does not expire'}${channel.nextRenewalAt ? html`, renewed ${this.when(channel.nextRenewalAt)}` : nothing}</td>
                      <td>${channel.lastDeliveryAt ? html`${this.when(channel.lastDeliveryAt)} (${DELIVERY_OUTCOMES[channel.lastOutcome ?? 'accepted']})` : 'none yet'}${channel.recentRejections > 0 ? html`; ${channel.recentRejections} rejected recently` : nothing}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`,
    );
    const url = loaded?.webhookUrl ? html`<p class="muted">The provider delivers to <code class="url">${loaded.webhookUrl}</code>.</p>` : nothing;
    return html`<section aria-labelledby="ts-channels"><h3 id="ts-channels">Real-time updates (webhooks)</h3>${url}${body}</section>`;
  }

  private renderDeliveries(): TemplateResult | typeof nothing {
    const logs = this.logs;
    if (logs === 'missing') return nothing;
    const body = loadedList(
      logs === 'failed' ? undefined : logs,
      logs === 'failed' ? 'Could not load the deliveries.' : undefined,
      'No delivery in the last 30 days.',
      (deliveries) => html`<table>
                <thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th></tr></thead>
                <tbody>
                  ${deliveries.map(
                    (log) => html`<tr>
                      <td>${this.when(log.receivedAt)}</td>
                      <td>${humanise(log.eventType)}${log.resource ? html` <span class="muted">(${resourceLabel(log.resource)})</span>` : nothing}</td>
                      <td>${DELIVERY_OUTCOMES[log.outcome]}${log.reason ? html`: ${humanise(log.reason)}` : nothing}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>`,
    );
    return html`<section aria-labelledby="ts-deliveries"><h3 id="ts-deliveries">Recent deliveries</h3>${body}</section>`;
  }

  private when(iso: string) {
    return html`<time datetime=${iso} title=${absoluteTime(iso)}>${relativeTime(iso, this.now())}</time>`;
  }

  render(close: () => void): { body: TemplateResult; actions: TemplateResult } {
    const offered = this.status !== 'missing' || this.logs !== 'missing';
    return {
      body: offered
        ? html`<p>Status: ${describeReason(this.integration.healthReason)}</p>${this.renderChecks()}${this.renderChannels()}${this.renderDeliveries()}`
        : html`<p>Troubleshooting is not available on this platform yet. Check the sync logs, or try Sync now and Reconnect.</p>`,
      actions: html`<button @click=${close}>Close</button>`,
    };
  }
}

/** The banner of the organisation's open alerts (`GET /api/integrations/alerts`), when the API has them. */
export class AlertBanner {
  private alerts: AlertView[] = [];
  private offered = true;

  constructor(
    private readonly api: () => IntegrationsApi,
    private readonly providerName: (providerId: string) => string,
  ) {}

  /** Reads the open alerts; resolves whether what the banner shows changed. */
  async load(): Promise<boolean> {
    if (!this.offered) return false;
    const before = JSON.stringify(this.alerts);
    try {
      this.alerts = (await this.api().get<{ alerts: AlertView[] }>('/api/integrations/alerts')).alerts;
    } catch (error) {
      if (routeMissing(error, true)) this.offered = false;
      this.alerts = [];
    }
    return JSON.stringify(this.alerts) !== before;
  }

  render(): TemplateResult | typeof nothing {
    if (this.alerts.length === 0) return nothing;
    return html`<div class="banner alert" role="region" aria-label="Open alerts">
      <strong>Needs attention</strong>
      <ul>
        ${this.alerts.map((alert) => html`<li>${alert.providerId ? html`<strong>${this.providerName(alert.providerId)}:</strong> ` : nothing}${alert.message}</li>`)}
      </ul>
    </div>`;
  }
}

export const isTroubleshooting = (id: string) => id === TROUBLESHOOT;
