import { html, nothing, type TemplateResult } from 'lit';
import { ApiError, type IntegrationsApi } from './api';
import type { MenuItem } from './action-menu';
import type { Integration } from './model';

/**
 * The troubleshooting side of the page: the banner of open alerts, and the
 * views the ⋮ menu offers for one integration's webhooks and health. Each
 * view is offered only while the API answers its route: a deployment
 * without it (a 404) hides the view instead of breaking the page.
 */
export interface TroubleshootingDialog {
  title: string;
  integration: Integration;
  render(close: () => void): { body: TemplateResult; actions: TemplateResult };
}

interface Alert {
  integrationId?: string;
  providerId?: string;
  kind: string;
  message: string;
  raisedAt?: string;
}

export const troubleshootingItems = (_manage: boolean, _active: boolean): MenuItem[] => [];

export class TroubleshootingViews {
  private alerts: Alert[] = [];
  private alertsOffered = true;

  constructor(
    private readonly api: () => IntegrationsApi,
    private readonly changed: () => void,
  ) {}

  /** Open alerts (`GET /api/integrations/alerts`), when the API has them. */
  async loadAlerts(): Promise<void> {
    if (!this.alertsOffered) return;
    try {
      const answer = await this.api().get<Alert[] | { alerts: Alert[] }>('/api/integrations/alerts');
      this.alerts = Array.isArray(answer) ? answer : answer.alerts;
    } catch (error) {
      // No such route here: a 404, or a 400 where the path reads as an integration id.
      if (error instanceof ApiError && (error.status === 400 || error.status === 404)) this.alertsOffered = false;
      this.alerts = [];
    }
    this.changed();
  }

  renderAlerts(): TemplateResult | typeof nothing {
    if (this.alerts.length === 0) return nothing;
    return html`<div class="banner alert" role="region" aria-label="Open alerts">
      <strong>Needs attention</strong>
      <ul>${this.alerts.map((alert) => html`<li>${alert.message}</li>`)}</ul>
    </div>`;
  }

  open(_id: string, _integration: Integration): TroubleshootingDialog | undefined {
    return undefined;
  }
}
