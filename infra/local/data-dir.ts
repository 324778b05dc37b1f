import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';

/**
 * DATA_DIR holds employee data and sealed tokens: it is the owner's alone
 * (0700, files 0600), and one local runtime uses it at a time. The store
 * (LevelDB) takes its own lock, but a second runtime only learns of it by
 * crashing mid-request; the lock file here says who holds the directory
 * before anything starts.
 */

/** Makes DATA_DIR, and everything the process writes from now on, owner-only; tightens what an older run left. */
export function prepareDataDir(dir: string): void {
  // The umask covers files other modules create (dynalite's LevelDB files, the sandbox state, the lock file).
  process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // DATA_DIR itself may be a link to where the user keeps data: what it points to is tightened.
  tighten(dir, statSync(dir));
}

function tighten(path: string, stat = lstatSync(path)): void {
  // A link inside DATA_DIR points somewhere the runtime did not put there; that is not ours to change.
  if (stat.isSymbolicLink()) return;
  if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
  if (stat.isDirectory()) for (const entry of readdirSync(path)) tighten(join(path, entry));
}

export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

const lockFileSchema = z.object({
  pid: z.number().int().positive(),
  /** Start time of that process (Linux), so a pid reused after a crash is not taken for the runtime. */
  startTicks: z.string().optional(),
  url: z.string().optional(),
  startedAt: z.string(),
});
type LockFile = z.infer<typeof lockFileSchema>;

export const lockFilePath = (dir: string) => join(dir, 'runtime.lock');

export interface DataDirLock {
  /** Records the runtime's URL, for the message a second start prints. */
  announce(url: string): void;
  /** Removes the lock file if it is still this process's; safe to call more than once. */
  release(): void;
}

/** The process's start time in clock ticks since boot (`/proc/<pid>/stat`, field 22); undefined off Linux. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isRunning(holder: LockFile): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: alive, but another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const ticks = startTicks(holder.pid);
  return holder.startTicks === undefined || ticks === undefined || ticks === holder.startTicks;
}

function readLock(path: string): LockFile | undefined {
  try {
    const parsed = lockFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the lock file unless it exists (`wx`), so two starts cannot both take it. */
function create(path: string, lock: LockFile): boolean {
  try {
    writeFileSync(path, JSON.stringify(lock), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** An unreadable lock file written moments ago is another start writing it, not a leftover. */
function writtenJustNow(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < 2_000;
  } catch {
    return false;
  }
}

function inUse(dir: string, holder: LockFile | undefined): DataDirInUseError {
  const who = holder ? `pid ${holder.pid}, ${holder.url ?? 'still starting'}` : 'starting now';
  const how = holder ? `Ctrl-C in its terminal, or kill ${holder.pid}` : 'Ctrl-C in its terminal';
  return new DataDirInUseError(`[local] DATA_DIR ${dir} is in use by another local runtime (${who}): stop it first (${how}), or start this one with another DATA_DIR`);
}

/**
 * Takes DATA_DIR for this process, or throws DataDirInUseError naming the
 * process (and URL) holding it. A lock whose process is gone (kill -9, a
 * crash) is stale and taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = lockFilePath(dir);
  const mine: LockFile = { pid: process.pid, ...withTicks(), startedAt: new Date().toISOString() };
  for (let attempt = 0; !create(path, mine); attempt += 1) {
    const holder = readLock(path);
    if (attempt >= 2 || (holder ? isRunning(holder) : writtenJustNow(path))) throw inUse(dir, holder);
    // Stale: nobody holds the directory. Read again just before removing it, so a lock another start took meanwhile stays.
    if (JSON.stringify(readLock(path)) === JSON.stringify(holder)) remove(path);
  }

  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    if (readLock(path)?.pid === process.pid) remove(path);
  };
  // Whatever ends the process (a clean stop, a failed start, an uncaught error) frees the directory.
  process.once('exit', release);
  return {
    announce: (url) => {
      // Written aside, then renamed over: a second start never reads half a file.
      const next = `${path}.${process.pid}.tmp`;
      writeFileSync(next, JSON.stringify({ ...mine, url }), { mode: 0o600 });
      renameSync(next, path);
    },
    release,
  };
}

function withTicks(): { startTicks?: string } {
  const ticks = startTicks(process.pid);
  return ticks === undefined ? {} : { startTicks: ticks };
}
