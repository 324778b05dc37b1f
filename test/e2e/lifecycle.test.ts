import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockFilePath } from '../../infra/local/data-dir';
import { mintLocalToken } from '../../infra/local/jwt';
import { runLocalProcessToExit, startLocalProcess, type LocalProcess } from '../support/local-process';
import { runtimeClient } from '../support/runtime-client';

/**
 * Stopping and starting the local runtime as a user does: SIGTERM or Ctrl-C in
 * the middle of a sync, an immediate restart, a second start on the same
 * DATA_DIR, `npm start` itself, and the permissions of what DATA_DIR holds.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'hr-integrations-lifecycle-'));
const started: LocalProcess[] = [];
let server: LocalProcess | undefined;

afterAll(async () => {
  for (const each of started) {
    // An npm start that misbehaved may have left its runtime behind: its whole process group goes.
    if (each.child.pid !== undefined) {
      try {
        process.kill(-each.child.pid, 'SIGKILL');
      } catch {
        // Not a group leader (started directly) or already gone.
      }
    }
    await each.stop('SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}, via: 'node' | 'npm' = 'node'): Promise<LocalProcess> {
  server = await startLocalProcess({ DATA_DIR: dataDir, APP_BASE_URL: 'http://app.test', ...env }, 30_000, { via });
  started.push(server);
  return server;
}

interface SyncLogView {
  syncId: string;
  trigger: string;
  outcome: string;
  errorCode?: string;
}

const client = () => runtimeClient(server?.url ?? '');
const admin = () => {
  const { jwtSecret } = JSON.parse(readFileSync(join(dataDir, 'local-secrets.json'), 'utf8')) as { jwtSecret: string };
  return mintLocalToken(jwtSecret, { orgId: 'lifecycle', role: 'admin', sub: 'ops', ttlSeconds: 3600 });
};
const api = async <T>(method: string, path: string, body?: unknown) => client().api<T>(method, path, await admin(), body);

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const syncLogs = async (id: string) => (await api<{ logs: SyncLogView[] }>('GET', `/api/integrations/${id}/sync-logs`)).data.logs;
const health = async (id: string) => (await api<{ healthStatus: string; healthReason: string }>('GET', `/api/integrations/${id}`)).data;

/** Queues a manual sync whose first Slack call the sandbox holds for `delayMs`; resolves once it is running. */
async function slowSync(id: string, delayMs: number): Promise<string> {
  await client().sandbox('faults', { provider: 'slack', path: '/slack/api/users.list', delayMs, times: 1 });
  const queued = await api<{ syncId: string }>('POST', `/api/integrations/${id}/sync`);
  expect(queued.status).toBe(202);
  await until(() => health(id), (now) => now.healthStatus === 'syncing', 'the sync to start');
  return queued.data.syncId;
}

/** What must never show when the runtime stops: work failing against a bus or store already gone. */
const SHUTDOWN_DAMAGE = /ECONNREFUSED|Database is closed|Could not publish|network_error|\n\s+at /;

describe('stopping and starting the local runtime', () => {
  let integrationId = '';

  it('SIGTERM in the middle of a sync: the sync finishes first, nothing fails, the process exits and an immediate restart comes up', async () => {
    // As a user may have made it (mkdir .data); the last test checks it is owner-only by then.
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'notes.txt'), 'left by the user\n', { mode: 0o644 });
    await start();
    integrationId = await client().connect('slack', await admin());
    await until(() => syncLogs(integrationId), (logs) => logs.some((log) => log.trigger === 'initial'), 'the initial sync');
    const syncId = await slowSync(integrationId, 2_000);

    const signalled = Date.now();
    expect(await server?.stop('SIGTERM')).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const output = server?.output() ?? '';
    expect(output).toContain('[local] SIGTERM: stopping');
    expect(output).toContain('[local] stopped cleanly');
    expect(output).not.toMatch(SHUTDOWN_DAMAGE);

    // The next runtime gives up on work after 1 s (the second test).
    await start({ LOCAL_SHUTDOWN_SECONDS: '1' });
    const logs = await syncLogs(integrationId);
    expect(logs.find((log) => log.syncId === syncId)).toMatchObject({ outcome: 'succeeded' });
    expect(logs.filter((log) => log.outcome === 'failed')).toEqual([]);
    expect((await health(integrationId)).healthStatus).toBe('healthy');
  }, 60_000);

  it('a second start on a DATA_DIR in use exits non-zero with one clear line', async () => {
    const second = await runLocalProcessToExit({ DATA_DIR: dataDir });
    expect(second.code).not.toBe(0);
    const lines = second.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(dataDir);
    expect(lines[0]).toContain(`pid ${server?.child.pid}`);
    expect(lines[0]).toContain(server?.url);
    // The first one is unharmed.
    expect((await fetch(`${server?.url}/_local/health`)).status).toBe(200);
  }, 60_000);

  it('work still running at the deadline is abandoned, not recorded as a failure', async () => {
    const syncId = await slowSync(integrationId, 20_000);
    const signalled = Date.now();
    expect(await server?.stop('SIGTERM')).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    const output = server?.output() ?? '';
    expect(output).toMatch(/abandoned .*sync-worker/);
    expect(output).not.toMatch(SHUTDOWN_DAMAGE);

    // A lock file left by a runtime that died without a word (kill -9) does not keep the next one out.
    writeFileSync(lockFilePath(dataDir), JSON.stringify({ pid: spawnSync('true').pid, url: 'http://127.0.0.1:1', startedAt: new Date().toISOString() }));
    await start({}, 'npm');
    const logs = await syncLogs(integrationId);
    expect(logs.filter((log) => log.syncId === syncId || log.outcome === 'failed')).toEqual([]);
    expect((await health(integrationId)).healthStatus).not.toBe('degraded');
  }, 60_000);

  it('npm start: Ctrl-C returns only once the runtime has exited and DATA_DIR is free', async () => {
    const viaNpm = server;
    expect(await viaNpm?.interrupt()).toBe(0);
    expect(existsSync(lockFilePath(dataDir))).toBe(false);
    // Nothing npm started is left running (it would still hold the store).
    expect(() => process.kill(-(viaNpm?.child.pid ?? 0), 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(viaNpm?.output()).toContain('[local] SIGINT: stopping');
    expect(viaNpm?.output()).toContain('[local] stopped cleanly');
    expect(viaNpm?.output()).not.toMatch(SHUTDOWN_DAMAGE);
  }, 60_000);

  it('DATA_DIR is 0700 and everything in it 0600, though it was created wider', () => {
    expect(existsSync(join(dataDir, 'sandbox-state.json'))).toBe(true);
    const loose: string[] = [];
    const walk = (path: string) => {
      const stat = statSync(path);
      if ((stat.mode & 0o777) !== (stat.isDirectory() ? 0o700 : 0o600)) loose.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
      if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    };
    walk(dataDir);
    expect(loose).toEqual([]);
  });
});
