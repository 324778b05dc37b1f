/// <reference lib="dom" />
/**
 * `<hr-integrations api-base="https://api.example.com">`: the HR app's
 * Settings → Integrations, as one custom element. The host gives it the API's
 * origin and a `getToken` function returning its user's bearer token; the
 * element does the rest: the catalog, the connected list with live health,
 * Connect and Reconnect through the provider's consent page (and completing
 * the grant when the browser comes back with `?pending=`), the ⋮ menu
 * (sync, settings, logs, consents, export, disconnect, erasure) and, where
 * the API offers them, troubleshooting views and open alerts.
 *
 * A web component because the HR app may be built with any framework (or
 * none) and must only add a tag; Lit because it is small (about 6 KB),
 * well kept, and gives reactive properties and efficient template updates
 * without a virtual DOM. The server decides every permission; the element
 * only hides what the user's role would be refused.
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import './action-menu';
import type { ActionMenu, MenuItem } from './action-menu';
import { ApiError, IntegrationsApi, SignedOutError, type TokenSource } from './api';
import { consentsBody, dialogTitle, disconnectBody, eraseBody, isViewDialog, logsBody, settingsBody, type DialogState, type ViewDialog } from './dialogs';
import { callbackOutcome, completionOutcome, describeReason, type Outcome } from './messages';
import {
  accountLabel,
  mayManage,
  roleOfToken,
  type CatalogEntry,
  type Completion,
  type Consent,
  type Erasure,
  type Integration,
  type Role,
  type SyncLog,
  type SyncSettings,
} from './model';
import { styles } from './styles';
import { absoluteTime, relativeTime } from './time';
import { EventEndpoints } from './event-endpoints';
import { AlertBanner, isTroubleshooting, TroubleshootingDialog, troubleshootingItems } from './troubleshooting';

/** What the page remembers across the trip to the provider's consent page (this tab only). */
interface Flow {
  providerId: string;
  reconnect?: { integrationId: string; accountName: string };
}
const FLOW_KEY = 'hr-integrations.flow';
/** Query parameters the OAuth callback adds to the page's URL; removed once read. */
const LANDING_PARAMS = ['pending', 'provider', 'error'];

/** The dialogs that load what they show when they open. */
type LoadedDialog<K extends 'settings' | 'logs' | 'consents' = 'settings' | 'logs' | 'consents'> = Extract<DialogState, { kind: K }>;

type Access = 'loading' | 'ready' | 'signed-out' | 'expired' | 'no-access' | 'failed';

const BADGES: Record<Integration['healthStatus'], string> = { healthy: 'Healthy', degraded: 'Degraded', disconnected: 'Disconnected', syncing: 'Syncing' };

export class HrIntegrations extends LitElement {
  static override styles = styles;
  static override properties = {
    apiBase: { type: String, attribute: 'api-base' },
    getToken: { attribute: false },
    pollSeconds: { type: Number, attribute: 'poll-interval' },
    access: { state: true },
    userRole: { state: true },
    providers: { state: true },
    integrations: { state: true },
    outcome: { state: true },
    announcement: { state: true },
    dialog: { state: true },
    busy: { state: true },
    now: { state: true },
    syncing: { state: true },
  };

  /** The API's origin (and base path); empty means this page's origin. */
  declare apiBase: string;
  /** Returns the signed-in user's bearer token (or nothing when signed out). */
  declare getToken: TokenSource | undefined;
  /** How often the list is refreshed while the page is visible, in seconds. */
  declare pollSeconds: number;
  declare access: Access;
  /** The signed-in user's role, from the token (display only). */
  declare userRole: Role | undefined;
  declare providers: CatalogEntry[];
  declare integrations: Integration[];
  declare outcome: Outcome | undefined;
  declare announcement: string;
  declare dialog: DialogState | ViewDialog | undefined;
  declare busy: boolean;
  declare now: number;
  /** Manual syncs asked for here and not yet logged: integration id → sync id. */
  declare syncing: ReadonlyMap<string, string>;

  private api = new IntegrationsApi('', () => undefined);
  private readonly alerts = new AlertBanner(() => this.api, (providerId) => this.providerName(providerId));
  private readonly eventEndpoints = new EventEndpoints(
    () => this.api,
    (dialog, opener) => {
      this.returnFocus = opener;
      this.dialog = dialog;
    },
    () => this.requestUpdate(),
    () => this.now,
  );
  private landingHandled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private returnFocus: HTMLElement | undefined;

  constructor() {
    super();
    this.apiBase = '';
    this.getToken = undefined;
    this.pollSeconds = 5;
    this.access = 'loading';
    this.userRole = undefined;
    this.providers = [];
    this.integrations = [];
    this.outcome = undefined;
    this.announcement = '';
    this.dialog = undefined;
    this.busy = false;
    this.now = Date.now();
    this.syncing = new Map();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.schedulePoll();
  }

  override disconnectedCallback(): void {
    clearTimeout(this.timer);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('apiBase') || changed.has('getToken')) {
      this.api = new IntegrationsApi(this.apiBase, this.getToken ?? (() => undefined));
      void this.load();
    }
  }

  protected override updated(): void {
    const dialog = this.renderRoot.querySelector('dialog');
    if (dialog && !dialog.open) dialog.showModal();
  }

  /** Reloads everything (the host calls it after its user signs in or out). */
  async load(): Promise<void> {
    try {
      const token = await this.getToken?.();
      if (!token) {
        this.access = 'signed-out';
        return;
      }
      this.userRole = roleOfToken(token);
      // Event webhooks are the organisation's admins' (the API refuses HR and managers). A user who may not read
      // them loses the previous (admin) user's at once, not once the rest of the page has loaded for them.
      const readsEndpoints = this.userRole === undefined || this.userRole === 'admin';
      if (!readsEndpoints) await this.eventEndpoints.load(false);
      if (this.userRole === 'employee') {
        this.access = 'no-access';
        return;
      }
      const [providers] = await Promise.all([this.api.get<CatalogEntry[]>('/api/integrations/providers'), this.refreshList()]);
      this.providers = providers;
      this.access = 'ready';
      await this.handleLanding();
      await Promise.all([this.loadAlerts(), this.eventEndpoints.load(readsEndpoints)]);
    } catch (error) {
      this.access = this.accessAfter(error);
    }
  }

  private accessAfter(error: unknown): Access {
    if (error instanceof SignedOutError) return 'signed-out';
    if (error instanceof ApiError && error.status === 401) return 'expired';
    if (error instanceof ApiError && error.status === 403) return 'no-access';
    return 'failed';
  }

  private async refreshList(): Promise<void> {
    this.integrations = await this.api.get<Integration[]>('/api/integrations?limit=100');
    this.now = Date.now();
    await this.checkManualSyncs();
  }

  private async loadAlerts(): Promise<void> {
    if (await this.alerts.load()) this.requestUpdate();
  }

  /** A manual sync is done once a log names it (its own, or a run that covered it). */
  private async checkManualSyncs(): Promise<void> {
    if (this.syncing.size === 0) return;
    const still = new Map(this.syncing);
    await Promise.all(
      [...this.syncing].map(async ([integrationId, syncId]) => {
        const integration = this.integrations.find((candidate) => candidate.id === integrationId);
        if (!integration || integration.status !== 'active') return still.delete(integrationId);
        const { logs } = await this.api.get<{ logs: SyncLog[] }>(`/api/integrations/${integrationId}/sync-logs?limit=5`);
        const log = logs.find((candidate) => candidate.syncId === syncId || candidate.covers?.includes(syncId));
        if (!log) return;
        still.delete(integrationId);
        this.announcement = `${integration.providerName} sync ${log.outcome === 'failed' ? 'failed' : 'finished'}.`;
      }),
    );
    this.syncing = still;
  }

  private schedulePoll() {
    clearTimeout(this.timer);
    const seconds = this.syncing.size > 0 ? Math.min(this.pollSeconds, 2) : this.pollSeconds;
    this.timer = setTimeout(() => void this.poll(), Math.max(seconds, 0.5) * 1000);
  }

  private async poll() {
    try {
      if (this.access === 'ready' && document.visibilityState === 'visible') {
        await this.refreshList();
        await this.loadAlerts();
      }
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) this.access = this.accessAfter(error);
      // Anything else (the network, a 5xx) is retried at the next tick; the list keeps its last state.
    } finally {
      if (this.isConnected) this.schedulePoll();
    }
  }

  // ── OAuth round trip ──────────────────────────────────────────────

  /** Where the provider's consent page sends the browser back: this page, without the callback's parameters. */
  private returnUrl(): string {
    const url = new URL(location.href);
    for (const name of LANDING_PARAMS) url.searchParams.delete(name);
    url.hash = '';
    return url.toString();
  }

  private async startOAuth(path: string, body: Record<string, unknown>, flow: Flow): Promise<void> {
    this.busy = true;
    try {
      const { url } = await this.api.request<{ url: string }>('POST', path, { ...body, redirectTo: this.returnUrl() });
      sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
      location.assign(url);
    } catch (error) {
      this.busy = false;
      this.showFailure(`Could not start the sign-in with ${this.providerName(flow.providerId)}`, error);
    }
  }

  private connect(provider: CatalogEntry) {
    return this.startOAuth('/api/integrations/connect', { providerId: provider.id }, { providerId: provider.id });
  }

  private reconnect(integration: Integration) {
    return this.startOAuth(`/api/integrations/${integration.id}/reconnect`, {}, {
      providerId: integration.providerId,
      reconnect: { integrationId: integration.id, accountName: accountLabel(integration) },
    });
  }

  private readFlow(): Flow | undefined {
    const raw = sessionStorage.getItem(FLOW_KEY);
    sessionStorage.removeItem(FLOW_KEY);
    try {
      return raw ? (JSON.parse(raw) as Flow) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Back from the provider: complete the pending grant (`?pending=`) or explain the `?error=`. */
  private async handleLanding(): Promise<void> {
    if (this.landingHandled) return;
    this.landingHandled = true;
    const params = new URL(location.href).searchParams;
    const pending = params.get('pending');
    const error = params.get('error');
    if (!pending && !error) return;
    const flow = this.readFlow();
    const providerId = params.get('provider') ?? flow?.providerId ?? '';
    const name = this.providerName(providerId);
    history.replaceState(history.state, '', this.returnUrl());
    if (error) {
      this.outcome = callbackOutcome(error, name);
      return;
    }
    try {
      const done = await this.api.request<Completion>('POST', '/api/integrations/connect/complete', { pending });
      this.outcome =
        done.status === 'reconnected'
          ? { tone: 'success', title: `${name} reconnected`, detail: 'It works again, with the same settings and history.' }
          : { tone: 'success', title: `${name} connected`, detail: 'The first sync has started; its status shows in the list.' };
      await this.refreshList();
    } catch (failure) {
      const expectedAccount = flow?.providerId === providerId ? flow.reconnect?.accountName : undefined;
      const refusal = failure instanceof ApiError ? failure : { status: 0, code: 'network_error' };
      this.outcome = completionOutcome(refusal, name, expectedAccount);
    }
  }

  private providerName(providerId: string): string {
    return this.providers.find((provider) => provider.id === providerId)?.name ?? 'The integration';
  }

  private showFailure(title: string, error: unknown) {
    const detail =
      error instanceof ApiError && error.status === 403
        ? 'Your role does not allow this.'
        : error instanceof ApiError && error.status === 409
          ? 'The integration is not active.'
          : error instanceof ApiError && error.status === 429
            ? 'The provider is limiting requests; try again in a minute.'
            : 'Try again in a moment.';
    this.outcome = { tone: 'error', title, detail };
  }

  // ── the ⋮ menu ────────────────────────────────────────────────────

  private menuItems(integration: Integration): MenuItem[] {
    const manage = mayManage(this.userRole);
    const active = integration.status === 'active';
    const items: Array<MenuItem | false> = [
      manage && active && { id: 'sync', label: 'Sync now' },
      { id: 'settings', label: 'Sync settings' },
      { id: 'logs', label: 'Sync logs' },
      ...troubleshootingItems(),
      manage && { id: 'consents', label: 'Consent history' },
      manage && { id: 'export', label: 'Export data' },
      manage && { id: 'reconnect', label: 'Reconnect' },
      manage && active && { id: 'disconnect', label: 'Disconnect', destructive: true },
      manage && { id: 'erase', label: 'Delete data', destructive: true },
    ];
    return items.filter((item): item is MenuItem => item !== false);
  }

  private async onMenu(integration: Integration, id: string, menu: ActionMenu) {
    this.returnFocus = menu;
    switch (id) {
      case 'sync':
        return this.syncNow(integration);
      case 'reconnect':
        return this.reconnect(integration);
      case 'export':
        return this.exportData(integration);
      case 'disconnect':
        this.dialog = { kind: 'disconnect', integration };
        return;
      case 'erase':
        this.dialog = { kind: 'erase', integration, typed: '' };
        return;
      case 'settings':
        return this.openWith<LoadedDialog<'settings'>>({ kind: 'settings', integration, readOnly: !mayManage(this.userRole) }, async () => ({
          settings: await this.api.get<SyncSettings>(`/api/integrations/${integration.id}/settings`),
        }));
      case 'logs':
        return this.openWith<LoadedDialog<'logs'>>({ kind: 'logs', integration }, async () => ({
          logs: (await this.api.get<{ logs: SyncLog[] }>(`/api/integrations/${integration.id}/sync-logs?limit=50`)).logs,
        }));
      case 'consents':
        return this.openWith<LoadedDialog<'consents'>>({ kind: 'consents', integration }, async () => ({
          consents: await this.api.all<Consent, 'consents'>(`/api/integrations/${integration.id}/consents`, 'consents'),
        }));
      default:
        if (isTroubleshooting(id)) {
          this.dialog = new TroubleshootingDialog(integration, this.api, mayManage(this.userRole), () => this.requestUpdate(), () => this.now);
        }
    }
  }

  /** Opens a dialog at once ("Loading…") and fills it when its data arrives. */
  private async openWith<D extends LoadedDialog>(state: D, fetchPart: () => Promise<Partial<D>>) {
    this.dialog = state;
    try {
      const part = await fetchPart();
      if (this.dialog === state) this.dialog = { ...state, ...part };
    } catch {
      if (this.dialog === state) this.dialog = { ...state, error: 'Could not load this. Try again in a moment.' };
    }
  }

  private async syncNow(integration: Integration) {
    try {
      const { syncId } = await this.api.request<{ syncId: string }>('POST', `/api/integrations/${integration.id}/sync`);
      this.syncing = new Map(this.syncing).set(integration.id, syncId);
      this.announcement = `${integration.providerName} sync started.`;
      this.schedulePoll();
    } catch (error) {
      this.showFailure(`Could not start a ${integration.providerName} sync`, error);
    }
  }

  private async exportData(integration: Integration) {
    try {
      const items = await this.api.all<unknown, 'items'>(`/api/integrations/${integration.id}/export`, 'items');
      const blob = new Blob([JSON.stringify({ exportedAt: new Date().toISOString(), provider: integration.providerName, account: accountLabel(integration), items }, null, 2)], {
        type: 'application/json',
      });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = `${integration.providerId}-export-${new Date().toISOString().slice(0, 10)}.json`;
      this.renderRoot.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      this.announcement = `${integration.providerName} data exported (${items.length} items).`;
    } catch (error) {
      this.showFailure(`Could not export the ${integration.providerName} data`, error);
    }
  }

  // ── dialogs ───────────────────────────────────────────────────────

  private closeDialog() {
    this.renderRoot.querySelector('dialog')?.close();
  }

  private onDialogClosed() {
    this.dialog = undefined;
    this.returnFocus?.focus();
  }

  /** Tab and Shift+Tab cycle within the dialog (a modal dialog alone lets focus reach the browser's own controls). */
  private readonly keepFocusInside = (event: KeyboardEvent) => {
    if (event.key !== 'Tab') return;
    const dialog = event.currentTarget as HTMLDialogElement;
    const focusable = [...dialog.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')].filter(
      (element) => !element.matches(':disabled') && element.offsetParent !== null,
    );
    const first = focusable[0];
    const last = focusable.at(-1);
    const active = this.renderRoot instanceof ShadowRoot ? this.renderRoot.activeElement : null;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first?.focus();
    }
  };

  private async confirm(run: () => Promise<Outcome>, failure: string) {
    this.busy = true;
    try {
      const outcome = await run();
      await this.refreshList();
      this.outcome = outcome;
    } catch (error) {
      this.showFailure(failure, error);
    } finally {
      this.busy = false;
      this.closeDialog();
    }
  }

  private disconnect(integration: Integration) {
    return this.confirm(async () => {
      await this.api.request('DELETE', `/api/integrations/${integration.id}`);
      return { tone: 'success', title: `${integration.providerName} disconnected`, detail: 'Access was revoked and syncing stopped. Its history is kept; Reconnect restores it.' };
    }, `Could not disconnect ${integration.providerName}`);
  }

  private erase(integration: Integration) {
    return this.confirm(async () => {
      const erased = await this.api.request<Erasure>('DELETE', `/api/integrations/${integration.id}/data`);
      return {
        tone: 'success',
        title: `${integration.providerName} data deleted`,
        detail: `Everything held about ${accountLabel(integration)} is gone from this platform and will be permanently removed on ${absoluteTime(erased.purgeAt)}.`,
      };
    }, `Could not delete the ${integration.providerName} data`);
  }

  private async saveSettings(state: Extract<DialogState, { kind: 'settings' }>) {
    const form = this.renderRoot.querySelector<HTMLFormElement>('#settings-form');
    if (!form || !state.settings) return;
    const boxes = [...form.querySelectorAll<HTMLInputElement>('input[name="resource"]')];
    const change: SyncSettings = {
      scheduledSync: form.querySelector<HTMLInputElement>('input[name="scheduledSync"]')?.checked ?? state.settings.scheduledSync,
      resources: Object.fromEntries(boxes.map((box) => [box.value, box.checked])),
    };
    this.busy = true;
    try {
      await this.api.request('PATCH', `/api/integrations/${state.integration.id}/settings`, change);
      this.announcement = `${state.integration.providerName} sync settings saved.`;
      this.closeDialog();
    } catch {
      this.dialog = { ...state, error: 'The settings were not saved. Try again in a moment.' };
    } finally {
      this.busy = false;
    }
  }

  private dialogContent(state: DialogState): { body: TemplateResult; actions: TemplateResult } {
    const cancel = (label = 'Cancel') => html`<button @click=${() => this.closeDialog()}>${label}</button>`;
    switch (state.kind) {
      case 'disconnect':
        return {
          body: disconnectBody(state.integration),
          actions: html`${cancel()}<button class="danger" ?disabled=${this.busy} @click=${() => this.disconnect(state.integration)}>Disconnect</button>`,
        };
      case 'erase': {
        const matches = state.typed.trim().toLowerCase() === state.integration.providerName.toLowerCase();
        return {
          body: eraseBody(state.integration, state.typed, (typed) => (this.dialog = { ...state, typed })),
          actions: html`${cancel()}<button class="danger" ?disabled=${!matches || this.busy} @click=${() => this.erase(state.integration)}>Delete data</button>`,
        };
      }
      case 'settings':
        return {
          body: settingsBody(state),
          actions: state.readOnly
            ? cancel('Close')
            : html`${cancel()}<button class="primary" ?disabled=${!state.settings || this.busy} @click=${() => this.saveSettings(state)}>Save</button>`,
        };
      case 'logs':
        return { body: logsBody(state, this.now), actions: cancel('Close') };
      case 'consents':
        return { body: consentsBody(state), actions: cancel('Close') };
    }
  }

  private renderDialog() {
    const state = this.dialog;
    if (!state) return nothing;
    const content = isViewDialog(state) ? state.render(() => this.closeDialog()) : this.dialogContent(state);
    const title = isViewDialog(state) ? state.title : dialogTitle(state);
    return html`<dialog aria-labelledby="dialog-title" @close=${() => this.onDialogClosed()} @keydown=${this.keepFocusInside}>
      <div class="dialog-body"><h2 id="dialog-title">${title}</h2>${content.body}</div>
      <div class="dialog-actions">${content.actions}</div>
    </dialog>`;
  }

  // ── the page ──────────────────────────────────────────────────────

  private renderOutcome() {
    const outcome = this.outcome;
    if (!outcome) return nothing;
    return html`<div class="banner ${outcome.tone}" role=${outcome.tone === 'error' ? 'alert' : 'status'}>
      <button class="dismiss" aria-label="Dismiss this message" @click=${() => (this.outcome = undefined)}>✕</button>
      <strong>${outcome.title}.</strong>
      ${outcome.detail ? html`<p>${outcome.detail}</p>` : nothing}
      ${outcome.advice ? html`<p>What to try:</p><ul>${outcome.advice.map((line) => html`<li>${line}</li>`)}</ul>` : nothing}
    </div>`;
  }

  private renderBadge(integration: Integration, index: number) {
    const manual = this.syncing.has(integration.id) && integration.status === 'active';
    const health = manual ? 'syncing' : integration.status === 'disconnected' ? 'disconnected' : integration.healthStatus;
    const reason = manual && integration.healthStatus !== 'syncing' ? 'A sync you asked for is queued or running.' : describeReason(integration.healthReason);
    return html`<span class="status">
      <span class="badge ${health}" tabindex="0" aria-describedby="reason-${index}">${BADGES[health]}</span>
      <span class="tooltip" role="tooltip" id="reason-${index}">${reason}</span>
    </span>`;
  }

  private when(iso: string | null, never: string) {
    return iso ? html`<time datetime=${iso} title=${absoluteTime(iso)}>${relativeTime(iso, this.now)}</time>` : html`<span class="muted">${never}</span>`;
  }

  private renderConnected() {
    if (this.integrations.length === 0) return html`<p class="empty">No integrations connected yet.</p>`;
    return html`<table class="integrations" role="table">
      <thead role="rowgroup"><tr role="row">
        <th role="columnheader" scope="col">Integration</th><th role="columnheader" scope="col">Status</th>
        <th role="columnheader" scope="col">Connected</th><th role="columnheader" scope="col">Last sync</th>
        <th role="columnheader" scope="col"><span class="visually-hidden">Actions</span></th>
      </tr></thead>
      <tbody role="rowgroup">
        ${this.integrations.map(
          (integration, index) => html`<tr role="row" data-provider=${integration.providerId}>
            <td role="cell" class="name"><strong>${integration.providerName}</strong><span class="account">${accountLabel(integration)}</span></td>
            <td role="cell" class="health">${this.renderBadge(integration, index)}</td>
            <td role="cell" class="when" data-label="Connected">${this.when(integration.connectedAt, '')}</td>
            <td role="cell" class="when" data-label="Last sync">${this.when(integration.lastSyncAt, 'Not yet')}</td>
            <td role="cell" class="more">
              <hr-action-menu
                .label=${`Actions for ${integration.providerName} (${accountLabel(integration)})`}
                .items=${this.menuItems(integration)}
                @menu-select=${(event: CustomEvent<{ id: string }>) => this.onMenu(integration, event.detail.id, event.currentTarget as ActionMenu)}
              ></hr-action-menu>
            </td>
          </tr>`,
        )}
      </tbody>
    </table>`;
  }

  private renderCatalog() {
    const manage = mayManage(this.userRole);
    return html`<ul class="catalog">
      ${this.providers.map(
        (provider) => html`<li class="card" data-provider=${provider.id}>
          <h3>${provider.name}</h3>
          <p>${provider.description}</p>
          <p class="features">${provider.features.join(' · ')}</p>
          <div class="actions">
            ${provider.status !== 'active'
              ? html`<span class="badge soon">Coming soon</span>`
              : manage
                ? html`<button class="primary" ?disabled=${this.busy} @click=${() => this.connect(provider)}>Connect to ${provider.name}</button>`
                : nothing}
          </div>
        </li>`,
      )}
    </ul>`;
  }

  protected override render() {
    const announce = html`<div class="visually-hidden" role="status" aria-live="polite">${this.announcement}</div>`;
    switch (this.access) {
      case 'loading':
        return html`<p role="status">Loading integrations…</p>`;
      case 'signed-out':
        return html`<p class="empty" role="status">Sign in to see your organisation’s integrations.</p>`;
      case 'expired':
        return html`<p class="empty" role="alert">Your session has expired. Sign in again to see your organisation’s integrations.</p>`;
      case 'no-access':
        return html`<p class="empty" role="status">You don’t have access to integrations. Ask an admin or HR if you need it.</p>`;
      case 'failed':
        return html`<p class="empty" role="alert">Integrations could not be loaded. <button @click=${() => this.load()}>Try again</button></p>`;
      case 'ready':
        return html`${this.alerts.render()}${this.renderOutcome()}${announce}
          ${mayManage(this.userRole) ? nothing : html`<p class="muted">You can view integrations; only admins and HR can change them.</p>`}
          <section aria-labelledby="hr-connected"><h2 id="hr-connected">Connected</h2>${this.renderConnected()}</section>
          <section aria-labelledby="hr-available"><h2 id="hr-available">Available</h2>${this.renderCatalog()}</section>
          ${this.eventEndpoints.render()}
          ${this.renderDialog()}`;
    }
  }
}

if (!customElements.get('hr-integrations')) customElements.define('hr-integrations', HrIntegrations);

declare global {
  interface HTMLElementTagNameMap {
    'hr-integrations': HrIntegrations;
  }
}
