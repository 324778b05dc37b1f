import { spawn, type ChildProcess } from 'node:child_process';
import type { z } from 'zod';

/**
 * Child processes speak to the bench with one marked JSON line on stdout
 * (`MARKER {...}`); everything else they print is ignored, so a handler that
 * logs at import time cannot break the parsing.
 */

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);

/** The last `lines` non-empty lines of a text, joined with ' | ' (for one-line error cells). */
export function tail(text: string, lines = 5): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
}

/** The payload of the last `marker` line that parses and matches `schema`. */
export function findMarked<T>(text: string, marker: string, schema: z.ZodType<T>): T | undefined {
  const prefix = `${marker} `;
  const lines = text.split('\n').filter((line) => line.startsWith(prefix));
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const raw = lines[index]?.slice(prefix.length) ?? '';
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      continue;
    }
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** Spawn to exit, as seen by the parent. */
  wallMs: number;
}

const MAX_CAPTURE = 1024 * 1024;

function capture(stream: NodeJS.ReadableStream | null, sink: (chunk: string) => void): void {
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => sink(chunk));
}

/** Runs a process to completion (killed after `timeoutMs`), capturing its output. */
export function runChild(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ChildRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ code: null, signal: null, stdout, stderr: errorMessage(error), timedOut, wallMs: 0 });
      return;
    }
    capture(child.stdout, (chunk) => {
      if (stdout.length < MAX_CAPTURE) stdout += chunk;
    });
    capture(child.stderr, (chunk) => {
      if (stderr.length < MAX_CAPTURE) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      stderr += `\n${errorMessage(error)}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, wallMs: performance.now() - started });
    });
  });
}

export interface LongRunningChild<T> {
  ready: T;
  process: ChildProcess;
  /** What the child printed on stderr so far (bounded). */
  stderr(): string;
  /** Asks the child to stop (IPC disconnect + SIGTERM), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a process that announces readiness with a marked line on stdout and
 * keeps running (a server). Its output keeps being drained so it never blocks
 * on a full pipe. It gets an IPC channel so it can exit when the bench does.
 */
export function startChild<T>(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; marker: string; schema: z.ZodType<T>; timeoutMs: number },
): Promise<LongRunningChild<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));

    const stop = async (graceMs = 5_000): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    };

    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop(1_000).then(() => reject(new Error(`${message}${stderr ? `: ${tail(stderr)}` : ''}`)));
    };

    const timer = setTimeout(() => fail(`child did not report ready within ${options.timeoutMs} ms`), options.timeoutMs);
    capture(child.stdout, (chunk) => {
      if (settled) return; // keep draining, stop buffering
      stdout += chunk;
      const ready = findMarked(stdout, options.marker, options.schema);
      if (ready !== undefined) {
        settled = true;
        clearTimeout(timer);
        resolve({ ready, process: child, stderr: () => stderr, stop });
      } else if (stdout.length > MAX_CAPTURE) {
        stdout = stdout.slice(-64 * 1024);
      }
    });
    capture(child.stderr, (chunk) => {
      stderr = (stderr + chunk).slice(-64 * 1024);
    });
    child.on('error', (error) => fail(`child failed to start (${errorMessage(error)})`));
    child.on('exit', (code, signal) => fail(`child exited before it was ready (code ${code}, signal ${signal})`));
  });
}

/** The environment without the application's configuration, so imports prove they need none. */
export function envWithoutAppConfig(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const appVariable =
    /^(AWS_.*|TABLE_NAME|EVENT_BUS_NAME|APP_BASE_URL|INTEGRATION_ENCRYPTION_.*|TOKEN_KMS_KEY_ARN|POWERTOOLS_.*|LOCAL_.*|NODE_OPTIONS)$/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !appVariable.test(name)));
}
