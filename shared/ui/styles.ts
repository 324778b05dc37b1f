/**
 * The component's stylesheet, inside its shadow root so the host app's CSS
 * and ours never collide. System fonts only (nothing is loaded); colours
 * meet WCAG AA contrast; below 640 px the list becomes stacked cards.
 * Host apps can theme it through the custom properties on `:host`.
 */
import { css } from 'lit';

export const styles = css`
  :host {
    --hr-accent: #1a56c4;
    --hr-text: #1f2328;
    --hr-muted: #4d5661;
    --hr-border: #d0d7de;
    --hr-surface: #ffffff;
    --hr-subtle: #f6f8fa;
    display: block;
    color: var(--hr-text);
    font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  }
  * { box-sizing: border-box; }
  h2 { font-size: 1.15rem; margin: 1.5rem 0 0.5rem; }
  h3 { font-size: 1rem; margin: 0 0 0.25rem; }
  p { margin: 0.25rem 0; }
  button, input, select { font: inherit; }
  button {
    border: 1px solid var(--hr-border);
    background: var(--hr-surface);
    color: var(--hr-text);
    border-radius: 6px;
    padding: 0.4rem 0.8rem;
    cursor: pointer;
    min-height: 2.25rem;
  }
  button:hover:not([disabled]) { background: var(--hr-subtle); }
  button.primary { background: var(--hr-accent); border-color: var(--hr-accent); color: #fff; }
  button.primary:hover:not([disabled]) { background: #14449c; }
  button.danger { background: #b42318; border-color: #b42318; color: #fff; }
  button[disabled] { opacity: 0.55; cursor: not-allowed; }
  :focus-visible { outline: 3px solid var(--hr-accent); outline-offset: 2px; }
  .muted { color: var(--hr-muted); }
  .banner { border-radius: 8px; padding: 0.75rem 1rem; margin: 0.5rem 0; border: 1px solid; }
  .banner.success { background: #e7f5ec; border-color: #8cc9a1; }
  .banner.error { background: #fdecea; border-color: #e8a39b; }
  .banner.alert { background: #fff4e0; border-color: #e0b060; }
  .banner ul { margin: 0.4rem 0 0; padding-left: 1.2rem; }
  .banner .dismiss { float: right; margin-left: 0.5rem; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 0.6rem 0.5rem; border-bottom: 1px solid var(--hr-border); vertical-align: middle; }
  th { font-size: 0.85rem; color: var(--hr-muted); font-weight: 600; }
  .account { display: block; font-size: 0.85rem; color: var(--hr-muted); overflow-wrap: anywhere; }
  .badge {
    display: inline-flex; align-items: center; gap: 0.3rem;
    border-radius: 999px; padding: 0.1rem 0.6rem; font-size: 0.85rem; font-weight: 600; position: relative;
  }
  .badge.healthy { background: #e6f4ea; color: #0f6030; }
  .badge.degraded { background: #fff1cc; color: #6e4400; }
  .badge.disconnected { background: #fde7e6; color: #9c1c13; }
  .badge.syncing { background: #e3ecfd; color: #173f8a; }
  .badge.soon { background: #eceff1; color: #3c4349; }
  .status { position: relative; display: inline-block; }
  .tooltip {
    position: absolute; left: 0; top: calc(100% + 4px); z-index: 5; width: max-content; max-width: 16rem;
    background: #1f2328; color: #fff; padding: 0.4rem 0.6rem; border-radius: 6px; font-size: 0.85rem; font-weight: 400;
    visibility: hidden;
  }
  .status:hover .tooltip, .status:focus-within .tooltip { visibility: visible; }
  .menu-wrap { position: relative; display: inline-block; }
  .menu-button { min-width: 2.5rem; font-size: 1.2rem; line-height: 1; }
  [role='menu'] {
    position: absolute; right: 0; top: calc(100% + 4px); z-index: 10; list-style: none; margin: 0; padding: 0.25rem 0;
    min-width: 12rem; background: var(--hr-surface); border: 1px solid var(--hr-border); border-radius: 8px;
    box-shadow: 0 6px 20px rgb(0 0 0 / 15%);
  }
  [role='menuitem'] { display: block; padding: 0.5rem 0.9rem; cursor: pointer; white-space: nowrap; }
  [role='menuitem']:hover, [role='menuitem']:focus { background: var(--hr-subtle); outline: none; }
  [role='menuitem'].destructive { color: #9c1c13; }
  .catalog { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 0.75rem; list-style: none; padding: 0; margin: 0; }
  .card { border: 1px solid var(--hr-border); border-radius: 10px; padding: 0.9rem; display: flex; flex-direction: column; gap: 0.5rem; background: var(--hr-surface); }
  .card .features { font-size: 0.85rem; color: var(--hr-muted); }
  .card .actions { margin-top: auto; }
  dialog {
    border: none; border-radius: 12px; padding: 0; width: min(36rem, calc(100vw - 1.5rem)); max-height: calc(100vh - 2rem);
    box-shadow: 0 12px 40px rgb(0 0 0 / 30%); color: var(--hr-text);
  }
  dialog::backdrop { background: rgb(0 0 0 / 40%); }
  .dialog-body { padding: 1.1rem 1.25rem; overflow: auto; max-height: calc(100vh - 7rem); }
  .dialog-body h2 { margin-top: 0; }
  .dialog-actions { display: flex; justify-content: flex-end; gap: 0.5rem; padding: 0.75rem 1.25rem; border-top: 1px solid var(--hr-border); flex-wrap: wrap; }
  .dialog-body table { font-size: 0.9rem; }
  label.toggle { display: flex; gap: 0.5rem; align-items: center; padding: 0.3rem 0; }
  label.toggle input { width: 1.1rem; height: 1.1rem; }
  fieldset { border: 1px solid var(--hr-border); border-radius: 8px; margin: 0.5rem 0; }
  .confirm-input { width: 100%; padding: 0.4rem 0.5rem; border: 1px solid #6e7781; border-radius: 6px; margin-top: 0.25rem; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  code.url { overflow-wrap: anywhere; font-size: 0.85rem; }
  .dialog-body section { margin-top: 1rem; }
  .row-actions { white-space: nowrap; }
  .empty { padding: 0.75rem; border: 1px dashed var(--hr-border); border-radius: 8px; color: var(--hr-muted); }
  @media (max-width: 640px) {
    table.integrations thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
    table.integrations tr { display: grid; grid-template-columns: 1fr auto; gap: 0.25rem 0.75rem; padding: 0.75rem 0; border-bottom: 1px solid var(--hr-border); }
    table.integrations td { border: none; padding: 0; }
    table.integrations td.when::before { content: attr(data-label) ': '; color: var(--hr-muted); }
    table.integrations td.name { grid-column: 1; }
    table.integrations td.more { grid-column: 2; grid-row: 1; }
    table.integrations td.health, table.integrations td.when { grid-column: 1 / span 2; }
    table.endpoints thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
    table.endpoints tr { display: block; padding: 0.6rem 0; border-bottom: 1px solid var(--hr-border); }
    table.endpoints td { display: block; border: none; padding: 0.15rem 0; }
    .dialog-body table thead { display: none; }
    .dialog-body table tr { display: block; border-bottom: 1px solid var(--hr-border); padding: 0.4rem 0; }
    .dialog-body table td { display: block; border: none; padding: 0.1rem 0; }
  }
`;
