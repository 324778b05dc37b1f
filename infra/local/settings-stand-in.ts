import type { ServerResponse } from 'node:http';

/**
 * The local stand-in for the HR app's Settings → Integrations page, where the
 * OAuth callback sends the browser back. With `pending=<id>` it completes the
 * connection at once (`POST /api/integrations/connect/complete`) with the
 * bearer token of the user who started it, so a person still experiences one
 * click. The token is the one `npm run -s token` printed: pasted once, kept in
 * this browser's localStorage (local development only; the real app holds
 * its user's session).
 */
const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

const COMPLETE_SCRIPT = `
const TOKEN_KEY = 'hr-integrations.local-token';
const params = new URLSearchParams(location.search);
const pending = params.get('pending');
const out = document.getElementById('outcome');
const form = document.getElementById('token-form');
async function complete(token) {
  out.textContent = 'Completing the connection…';
  const response = await fetch('/api/integrations/connect/complete', {
    method: 'POST',
    headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' },
    body: JSON.stringify({ pending }),
  });
  const answer = await response.json().catch(() => ({}));
  if (response.ok && answer.success) {
    const next = new URL(location.href);
    next.searchParams.delete('pending');
    next.searchParams.set('integration', answer.data.integrationId);
    next.searchParams.set('status', answer.data.status);
    history.replaceState(null, '', next);
    out.textContent = answer.data.providerId + ' ' + answer.data.status + ': ' + answer.data.integrationId;
    out.dataset.status = answer.data.status;
  } else {
    if (response.status === 401) localStorage.removeItem(TOKEN_KEY);
    out.textContent = 'Not completed (' + response.status + '): ' + ((answer.error && answer.error.message) || 'unknown error');
    out.dataset.status = 'failed';
  }
}
if (pending) {
  const stored = localStorage.getItem(TOKEN_KEY);
  if (stored) complete(stored);
  else form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = new FormData(form).get('token').toString().trim();
    localStorage.setItem(TOKEN_KEY, token);
    form.hidden = true;
    complete(token);
  });
}
`;

export function settingsStandIn(url: URL, response: ServerResponse): void {
  const rows = [...url.searchParams]
    .filter(([name]) => name !== 'pending')
    .map(([name, value]) => `<tr><th>${escapeHtml(name)}</th><td><code>${escapeHtml(value)}</code></td></tr>`)
    .join('');
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  response.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>Settings → Integrations (local)</title></head><body>` +
      `<h1>Settings → Integrations</h1><p>The local runtime's stand-in for the HR app.</p>` +
      `<p id="outcome" role="status"></p>` +
      `<form id="token-form" hidden><label>Bearer token of the user who clicked Connect (<code>npm run -s token -- --org … --role admin</code>): ` +
      `<input name="token" autocomplete="off" required></label> <button type="submit">Complete the connection</button></form>` +
      `<table>${rows}</table><p>List integrations with <code>GET /api/integrations</code>.</p>` +
      `<script type="module">${COMPLETE_SCRIPT}</script></body></html>`,
  );
}
