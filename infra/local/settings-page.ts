/**
 * The HR app's Settings → Integrations page, as the local runtime serves it
 * at `/settings/integrations` (where the OAuth callback sends the browser
 * back): the `<hr-integrations>` component, embedded exactly as an HR app
 * embeds it, under a clearly labelled local development sign-in. The
 * sign-in mints a local JWT (organisation, role, user) with
 * LOCAL_JWT_SECRET, keeps it in this browser's localStorage and hands it to
 * the component as its `getToken`. It exists only in the local runtime:
 * nothing of it is in the manifest, so AWS never has it.
 */
import { resolve } from 'node:path';
import * as z from 'zod';
import { summarizeIssues } from '../../shared/http/api-handler';
import { orgIdSchema } from '../../shared/http/principal';
import { roles } from '../../shared/http/rbac';
import { stop as stopEsbuild } from 'esbuild';
import { buildSettingsModule, SETTINGS_MODULE_FILE, type SettingsModule } from '../../shared/ui/build';
import { mintLocalToken } from './jwt';

export const SETTINGS_PATH = '/settings/integrations';
export const SETTINGS_MODULE_PATH = `${SETTINGS_PATH}/${SETTINGS_MODULE_FILE}`;
export const DEV_SIGN_IN_PATH = '/_local/dev-sign-in';
const DEV_TOKEN_TTL_SECONDS = 8 * 3600;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const json = (status: number, body: unknown): Answer => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** Builds the component once at start; every request for it waits for that build. */
export function settingsModule(root: string, log: (line: string) => void): () => Promise<Answer> {
  const built: Promise<SettingsModule | undefined> = buildSettingsModule(root, resolve(root, 'dist/ui'))
    .catch((error: unknown) => {
      log(`[local] building the settings page failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    })
    // esbuild's service process would otherwise outlive a stopping runtime for a moment; nothing else here uses it.
    .finally(() => stopEsbuild());
  return async () => {
    const module = await built;
    if (!module) return json(500, { success: false, error: { code: 'internal_error', message: 'The settings page could not be built; see the runtime output' } });
    return { status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }, body: module.code };
  };
}

const signInSchema = z
  .object({
    orgId: orgIdSchema,
    role: z.enum(roles),
    userId: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, 'letters, digits and . _ @ - only'),
  })
  .strict();

/**
 * `POST /_local/dev-sign-in {orgId, role, userId}` → `{token}`. JSON only: a
 * JSON request from another site needs a CORS preflight this runtime never
 * grants, so no other page the developer visits can mint itself a token.
 */
export async function devSignIn(contentType: string | undefined, body: Buffer, jwtSecret: string): Promise<Answer> {
  if (!/^application\/json\b/i.test(contentType ?? '')) {
    return json(415, { success: false, error: { code: 'unsupported_media_type', message: 'Send application/json' } });
  }
  let input: unknown;
  try {
    input = JSON.parse(body.toString('utf8'));
  } catch {
    return json(400, { success: false, error: { code: 'bad_request', message: 'The body is not JSON' } });
  }
  const parsed = signInSchema.safeParse(input);
  if (!parsed.success) return json(400, { success: false, error: { code: 'validation_failed', message: summarizeIssues('body', parsed.error) } });
  const { orgId, role, userId } = parsed.data;
  const token = await mintLocalToken(jwtSecret, { orgId, role, sub: userId, ttlSeconds: DEV_TOKEN_TTL_SECONDS });
  return json(200, { success: true, data: { token } });
}

/** The sign-in's script: keeps the token, shows who is signed in, and gives the component its token. */
const SIGN_IN_SCRIPT = `
const TOKEN_KEY = 'hr-integrations.local-token';
const element = document.querySelector('hr-integrations');
const form = document.getElementById('dev-sign-in');
const who = document.getElementById('signed-in-as');
const signOut = document.getElementById('sign-out');
const problem = document.getElementById('sign-in-problem');
function claimsOf(token) {
  try { return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))); } catch { return undefined; }
}
function show() {
  const token = localStorage.getItem(TOKEN_KEY);
  const claims = token ? claimsOf(token) : undefined;
  who.textContent = claims ? 'Signed in as ' + claims.sub + ' (' + claims.role + ') in organisation ' + claims.org_id : 'Not signed in';
  signOut.hidden = !claims;
  if (claims) {
    form.elements.orgId.value = claims.org_id;
    form.elements.role.value = claims.role;
    form.elements.userId.value = claims.sub;
  }
  // A new function each time: the component reloads for the new user.
  element.getToken = () => localStorage.getItem(TOKEN_KEY);
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  problem.textContent = '';
  const data = Object.fromEntries(new FormData(form));
  const response = await fetch('${DEV_SIGN_IN_PATH}', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) { problem.textContent = (answer.error && answer.error.message) || 'Sign-in failed'; return; }
  localStorage.setItem(TOKEN_KEY, answer.data.token);
  show();
});
signOut.addEventListener('click', () => { localStorage.removeItem(TOKEN_KEY); show(); });
show();
`;

const roleOptions = roles.map((role) => `<option value="${role}">${role}</option>`).join('');

export function settingsPage(): Answer {
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Settings · Integrations (local)</title>
<style>
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #1f2328; background: #fff; }
  .dev { background: #fff4d6; border-bottom: 2px dashed #a86b00; padding: 0.6rem 1rem; font-size: 0.9rem; }
  .dev strong { color: #6b4300; }
  .dev form { display: flex; flex-wrap: wrap; gap: 0.5rem 0.75rem; align-items: end; margin-top: 0.4rem; }
  .dev label { display: flex; flex-direction: column; font-size: 0.8rem; }
  .dev input, .dev select, .dev button { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid #6e7781; border-radius: 6px; background: #fff; color: #1f2328; }
  main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
  h1 { font-size: 1.5rem; margin: 0.5rem 0; }
  nav { color: #4d5661; font-size: 0.9rem; }
</style>
</head>
<body>
<section class="dev" aria-labelledby="dev-title">
  <strong id="dev-title">LOCAL DEVELOPMENT SIGN-IN</strong> · not part of the product; it exists only in the local runtime (<code>npm start</code>).
  Your HR app signs its users in and gives the component their token.
  <form id="dev-sign-in">
    <label>Organisation <input name="orgId" value="acme" required autocomplete="off"></label>
    <label>Role <select name="role">${roleOptions}</select></label>
    <label>User <input name="userId" value="local-admin" required autocomplete="off"></label>
    <button type="submit">Sign in</button>
    <span id="signed-in-as" role="status"></span>
    <button type="button" id="sign-out" hidden>Sign out</button>
    <span id="sign-in-problem" role="alert"></span>
  </form>
</section>
<main>
  <nav aria-label="Breadcrumb">Settings › Integrations</nav>
  <h1>Integrations</h1>
  <hr-integrations api-base=""></hr-integrations>
</main>
<script type="module" src="${SETTINGS_MODULE_PATH}"></script>
<script type="module">${SIGN_IN_SCRIPT}</script>
</body>
</html>`,
  };
}
