import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir, lockFilePath, type DataDirLock } from '../../infra/local/data-dir';

/** The single-instance lock of DATA_DIR: who holds it, and when a lock file is a leftover. */
const dirs: string[] = [];
const locks: DataDirLock[] = [];

afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hr-integrations-lock-'));
  dirs.push(dir);
  return dir;
}

const take = (dir: string) => {
  const lock = lockDataDir(dir);
  locks.push(lock);
  return lock;
};

const holder = (dir: string) => JSON.parse(readFileSync(lockFilePath(dir), 'utf8')) as { pid: number; url?: string };

/** A pid that was just in use and is not any more. */
const goneProcessPid = () => spawnSync('true').pid ?? 0;

describe('lockDataDir', () => {
  it('takes a free DATA_DIR, records the URL once known, and frees it on release', () => {
    const dir = dataDir();
    const lock = take(dir);
    expect(holder(dir).pid).toBe(process.pid);
    lock.announce('http://127.0.0.1:3000');
    expect(holder(dir)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:3000' });
    lock.release();
    expect(existsSync(lockFilePath(dir))).toBe(false);
  });

  it('refuses a DATA_DIR a live process holds, naming the directory, the process and its URL', () => {
    const dir = dataDir();
    writeFileSync(lockFilePath(dir), JSON.stringify({ pid: process.ppid, url: 'http://127.0.0.1:3999', startedAt: new Date().toISOString() }));
    expect(() => take(dir)).toThrow(DataDirInUseError);
    expect(() => take(dir)).toThrow(`[local] DATA_DIR ${dir} is in use by another local runtime (pid ${process.ppid}, http://127.0.0.1:3999)`);
    expect(holder(dir).pid).toBe(process.ppid);
  });

  it('takes over a lock left by a process that is gone (kill -9, a crash)', () => {
    const dir = dataDir();
    writeFileSync(lockFilePath(dir), JSON.stringify({ pid: goneProcessPid(), startedAt: new Date().toISOString() }));
    take(dir);
    expect(holder(dir).pid).toBe(process.pid);
  });

  it.runIf(existsSync('/proc/self/stat'))('takes over a lock whose pid now belongs to another process (Linux: start times differ)', () => {
    const dir = dataDir();
    writeFileSync(lockFilePath(dir), JSON.stringify({ pid: process.ppid, startTicks: '1', startedAt: new Date().toISOString() }));
    take(dir);
    expect(holder(dir).pid).toBe(process.pid);
  });

  it('an unreadable lock file: another start writing it now, or a leftover once it is old', () => {
    const dir = dataDir();
    writeFileSync(lockFilePath(dir), '');
    expect(() => take(dir)).toThrow('(starting now)');
    const aMinuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lockFilePath(dir), aMinuteAgo, aMinuteAgo);
    take(dir);
    expect(holder(dir).pid).toBe(process.pid);
  });
});
