/**
 * The sandbox's HTML: a consent page per provider and an error page. Every
 * value that came from a request is escaped, in text and in attributes.
 */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
  .banner { background: #ffd60a; color: #000; font-weight: 700; padding: .5rem .75rem; border-radius: .25rem; }
  .error { background: #ffe5e5; color: #8a0000; padding: .5rem .75rem; border-radius: .25rem; }
  code { background: #f2f2f2; padding: 0 .25rem; border-radius: .2rem; word-break: break-all; }
  label { display: block; margin: 1rem 0; }
  input[type=text] { width: 100%; padding: .4rem; font-size: 1rem; }
  button { font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; }
  dl dt { font-weight: 600; margin-top: .5rem; }
`;

function page(title: string, content: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    content,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

export interface ScopeGroup {
  title: string;
  scopes: string[];
}

export interface ConsentPageInput {
  providerName: string;
  /** Relative form action: the last segment of the authorize path, so the page works under any mount prefix. */
  action: string;
  /** Every authorize parameter, carried back as hidden inputs. */
  hidden: Record<string, string>;
  scopeGroups: ScopeGroup[];
  clientId: string;
  redirectUri: string;
  accountLabel: string;
  account: string;
  error?: string;
}

export function renderConsentPage(input: ConsentPageInput): string {
  const title = `SANDBOX ${input.providerName}`;
  const groups = input.scopeGroups
    .filter((group) => group.scopes.length > 0)
    .map(
      (group) =>
        `<h2>${escapeHtml(group.title)}</h2>\n<ul class="scopes">\n${group.scopes
          .map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`)
          .join('\n')}\n</ul>`,
    )
    .join('\n');
  const hidden = Object.entries(input.hidden)
    .filter(([name]) => name !== 'decision' && name !== 'account')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const content = [
    `<p class="banner">SANDBOX ${escapeHtml(input.providerName)}: a fake consent page served by the local runtime. No real ${escapeHtml(input.providerName)} account is involved.</p>`,
    `<h1>${escapeHtml(title)}: authorize an application</h1>`,
    input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : '',
    '<dl>',
    `<dt>Application (client_id)</dt><dd><code>${escapeHtml(input.clientId)}</code></dd>`,
    `<dt>Will redirect to</dt><dd><code>${escapeHtml(input.redirectUri)}</code></dd>`,
    '</dl>',
    groups,
    `<form method="post" action="${escapeHtml(input.action)}">`,
    hidden,
    `<label>${escapeHtml(input.accountLabel)}<input type="text" name="account" value="${escapeHtml(input.account)}" autocomplete="off"></label>`,
    '<button type="submit" name="decision" value="allow">Allow</button>',
    '<button type="submit" name="decision" value="deny">Deny</button>',
    '</form>',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return page(`${title}: authorize`, content);
}

export function renderErrorPage(input: { providerName: string; title: string; message: string }): string {
  const content = [
    `<p class="banner">SANDBOX ${escapeHtml(input.providerName)}</p>`,
    `<h1>${escapeHtml(input.title)}</h1>`,
    `<p class="error" role="alert">${escapeHtml(input.message)}</p>`,
  ].join('\n');
  return page(`SANDBOX ${input.providerName}: ${input.title}`, content);
}
