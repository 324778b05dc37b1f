/**
 * The contents of the page's dialogs, one function each, as plain templates:
 * what Disconnect and Delete data will do (and the typed confirmation
 * erasure needs), the sync settings form, the sync logs and the consent
 * history; other modules' dialogs render themselves (`ViewDialog`). The
 * element owns the `<dialog>`, its state and its buttons' effects; these
 * only say what is shown.
 */
import { html, type TemplateResult } from 'lit';
import { describeReason, humanise } from './messages';
import { accountLabel, resourceLabel, type Consent, type Integration, type SyncLog, type SyncSettings } from './model';
import { absoluteTime, relativeTime } from './time';

export type DialogState =
  | { kind: 'disconnect'; integration: Integration }
  | { kind: 'erase'; integration: Integration; typed: string }
  | { kind: 'settings'; integration: Integration; settings?: SyncSettings; readOnly: boolean; error?: string }
  | { kind: 'logs'; integration: Integration; logs?: SyncLog[]; error?: string }
  | { kind: 'consents'; integration: Integration; consents?: Consent[]; error?: string };

/** A dialog that renders itself (troubleshooting, event webhooks): a title, a body and its buttons. */
export interface ViewDialog {
  title: string;
  render(close: () => void): { body: TemplateResult; actions: TemplateResult };
}

export const isViewDialog = (dialog: object): dialog is ViewDialog => 'render' in dialog;

export const dialogTitle = (state: DialogState): string => {
  const name = state.integration.providerName;
  return {
    disconnect: `Disconnect ${name}?`,
    erase: `Delete all ${name} data?`,
    settings: `${name} sync settings`,
    logs: `${name} sync logs`,
    consents: `${name} consent history`,
  }[state.kind];
};

export function disconnectBody(integration: Integration): TemplateResult {
  const name = integration.providerName;
  return html`<p>${name} (${accountLabel(integration)}) will stop working with this platform:</p>
    <ul>
      <li>Its access tokens are revoked at ${name} and deleted here.</li>
      <li>Webhooks are disabled: ${name} changes no longer arrive.</li>
      <li>Sync jobs are stopped.</li>
      <li>History is kept: synced data, sync logs and consent history stay until you delete them (Delete data).</li>
    </ul>
    <p>You can reconnect later; it keeps the same history.</p>`;
}

export function eraseBody(integration: Integration, typed: string, onInput: (value: string) => void): TemplateResult {
  const name = integration.providerName;
  return html`<p>This deletes everything held about ${name} (${accountLabel(integration)}) at once: the connection, its synced data,
      sync logs, consent history and push subscriptions. It disconnects first if needed.</p>
    <p>The data disappears now and is permanently removed after 30 days. It cannot be undone; export it first if you need a copy.</p>
    <label for="confirm-erase">Type <strong>${name}</strong> to confirm</label>
    <input id="confirm-erase" class="confirm-input" autocomplete="off" spellcheck="false" .value=${typed}
      @input=${(event: Event) => onInput((event.target as HTMLInputElement).value)} />`;
}

export function settingsBody(state: Extract<DialogState, { kind: 'settings' }>): TemplateResult {
  if (!state.settings) return html`<p role="status">Loading…</p>`;
  const disabled = state.readOnly;
  return html`${state.readOnly ? html`<p class="muted">You can view these settings; only admins and HR can change them.</p>` : ''}
    <form id="settings-form" @submit=${(event: Event) => event.preventDefault()}>
      <fieldset>
        <legend>What to sync</legend>
        ${Object.entries(state.settings.resources).map(
          ([resource, on]) =>
            html`<label class="toggle"><input type="checkbox" name="resource" value=${resource} .checked=${on} ?disabled=${disabled} /> ${resourceLabel(resource)}</label>`,
        )}
      </fieldset>
      <fieldset>
        <legend>Schedule</legend>
        <label class="toggle"><input type="checkbox" name="scheduledSync" .checked=${state.settings.scheduledSync} ?disabled=${disabled} /> Sync automatically every 15 minutes</label>
        <p class="muted">Changes also arrive in real time through webhooks, and Sync now runs a sync at once.</p>
      </fieldset>
    </form>
    ${state.error ? html`<p role="alert" class="banner error">${state.error}</p>` : ''}`;
}

const countsOf = (log: SyncLog) => {
  const parts = Object.entries(log.counts)
    .map(([resource, count]) => ({ resource, changed: count.created + count.updated + count.deleted, count }))
    .filter((entry) => entry.changed > 0)
    .map((entry) => `${resourceLabel(entry.resource)}: ${entry.count.created} new, ${entry.count.updated} updated, ${entry.count.deleted} removed`);
  return parts.length > 0 ? parts.join('; ') : 'No changes';
};

const TRIGGERS: Record<string, string> = { manual: 'Sync now', scheduled: 'Every 15 minutes', webhook: 'Real-time update', initial: 'First sync', reconnect: 'After reconnecting', coalesced: 'Sync now (queued)' };
const OUTCOMES: Record<SyncLog['outcome'], string> = { succeeded: 'Succeeded', failed: 'Failed', skipped: 'Skipped' };

/** A list a dialog loads: "Loading…" until it arrives, then the failure, the empty sentence, or its table. */
export function loadedList<T>(items: readonly T[] | undefined, failure: string | undefined, empty: string, table: (items: readonly T[]) => TemplateResult): TemplateResult {
  if (failure) return html`<p role="alert">${failure}</p>`;
  if (!items) return html`<p role="status">Loading…</p>`;
  if (items.length === 0) return html`<p class="empty">${empty}</p>`;
  return table(items);
}

export function logsBody(state: Extract<DialogState, { kind: 'logs' }>, now: number): TemplateResult {
  return loadedList(state.logs, state.error, 'No sync has run yet.', (logs) => html`<table>
    <thead><tr><th scope="col">When</th><th scope="col">Trigger</th><th scope="col">Outcome</th><th scope="col">Changes</th></tr></thead>
    <tbody>
      ${logs.map(
        (log) => html`<tr>
          <td><time datetime=${log.startedAt} title=${absoluteTime(log.startedAt)}>${relativeTime(log.startedAt, now)}</time>
            <span class="muted">(${(log.durationMs / 1000).toFixed(1)} s)</span></td>
          <td>${TRIGGERS[log.trigger] ?? humanise(log.trigger)}</td>
          <td>${OUTCOMES[log.outcome]}${log.errorCode ? html`: ${describeReason(`sync_failed:${log.errorCode}`)}` : ''}</td>
          <td>${countsOf(log)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`);
}

export function consentsBody(state: Extract<DialogState, { kind: 'consents' }>): TemplateResult {
  return loadedList(state.consents, state.error, 'No consent recorded.', (consents) => html`<p class="muted">Every time someone allowed access: who, when, which permissions, from where.</p>
    <table>
      <thead><tr><th scope="col">Granted</th><th scope="col">By</th><th scope="col">Permissions</th><th scope="col">From</th></tr></thead>
      <tbody>
        ${consents.map(
          (consent) => html`<tr>
            <td><time datetime=${consent.grantedAt}>${absoluteTime(consent.grantedAt)}</time> <span class="muted">(terms ${consent.consentVersion})</span></td>
            <td>${consent.userId}</td>
            <td>${consent.scopesGranted.join(', ')}</td>
            <td>${consent.ipAddress ?? ''} <span class="muted">${consent.userAgent ?? ''}</span></td>
          </tr>`,
        )}
      </tbody>
    </table>`);
}
