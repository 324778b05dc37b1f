/**
 * What a browser does in an OAuth flow, over real HTTP: open the provider's
 * (sandbox) consent page, submit its form with Allow or Deny, follow the
 * redirect back to our callback, and read where the callback sends the user.
 */
const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
const unescapeHtml = (value: string) => value.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (entity) => entities[entity] ?? entity);

export async function submitConsent(authorizeUrl: string, decision: 'allow' | 'deny', account?: string): Promise<string> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${html.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]*)"/.exec(html)?.[1];
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    form.set(unescapeHtml(match[1] ?? ''), unescapeHtml(match[2] ?? ''));
  }
  const defaultAccount = /<input type="text" name="account" value="([^"]*)"/.exec(html)?.[1];
  form.set('account', account ?? unescapeHtml(defaultAccount ?? ''));
  form.set('decision', decision);
  const target = new URL(unescapeHtml(action ?? ''), authorizeUrl);
  const response = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
    redirect: 'manual',
  });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) throw new Error(`consent submit answered ${response.status}`);
  return location;
}

/** Follows one redirect hop without following the next. */
export async function follow(url: string, headers: Record<string, string> = {}): Promise<{ status: number; location: URL }> {
  const response = await fetch(url, { redirect: 'manual', headers });
  const location = response.headers.get('location');
  if (!location) throw new Error(`${url} answered ${response.status} without a location`);
  return { status: response.status, location: new URL(location, url) };
}
