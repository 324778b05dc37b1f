import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkAnswersOf } from './contract';

/** Runs the local runtime (`npm start`'s entry) as a child process, as a user would; its API answers are checked against the contract. */
const root = join(import.meta.dirname, '..', '..');

export interface LocalProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Signals the process (npm itself when started `via: 'npm'`) and resolves with its exit code once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Ctrl-C in the terminal that started it; resolves with the exit code. */
  interrupt(): Promise<number | null>;
  /** Resolves with the exit code once the process has exited, whoever stopped it. */
  exited: Promise<number | null>;
}

export interface StartOptions {
  /** `npm`: through `npm start`, as a user runs it, in its own process group (as a terminal would start it). */
  via?: 'node' | 'npm';
}

/** The environment a new user has: none of the test suite's AWS or key variables. */
export function userEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

/** Spawns the runtime and captures its output (into the run's log audit too). */
function spawnRuntime(env: Record<string, string>, via: 'node' | 'npm') {
  // The run's log audit (global setup) reads this runtime's output and the secrets its sandbox issues.
  const audit: Record<string, string> = process.env.SANDBOX_SECRETS_LEDGER ? { SANDBOX_SECRETS_LEDGER: process.env.SANDBOX_SECRETS_LEDGER } : {};
  const options = {
    cwd: root,
    env: userEnvironment({ PORT: '0', LOCAL_SCHEDULER: 'off', ...audit, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'],
  };
  // One process (tsx as a loader, not its CLI wrapper), so a signal, SIGKILL included, reaches the runtime itself.
  const child =
    via === 'npm'
      ? spawn('npm', ['start'], { ...options, detached: true })
      : spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], options);
  let output = '';
  const auditLog = process.env.SANDBOX_SECRETS_LEDGER ? join(dirname(process.env.SANDBOX_SECRETS_LEDGER), `log-runtime-${Date.now()}-${Math.random().toString(36).slice(2)}.log`) : undefined;
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
    if (auditLog) appendFileSync(auditLog, chunk);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Runs the runtime until it exits on its own (a start that must be refused); kills it after `timeoutMs`. */
export async function runLocalProcessToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const { child, exited, output } = spawnRuntime(env, 'node');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

export async function startLocalProcess(env: Record<string, string>, timeoutMs = 30_000, options: StartOptions = {}): Promise<LocalProcess> {
  const { child, exited, output } = spawnRuntime(env, options.via ?? 'node');

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime did not start:\n${output()}`)), timeoutMs);
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited with ${code}:\n${output()}`));
    });
  });
  // Every answer a test gets from this runtime's API is checked against the OpenAPI document.
  checkAnswersOf(url);

  return {
    url,
    child,
    output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
    interrupt: async () => {
      // A terminal's Ctrl-C: SIGINT to every process of the foreground group (npm and what it runs).
      if (child.exitCode === null && child.pid !== undefined) process.kill(options.via === 'npm' ? -child.pid : child.pid, 'SIGINT');
      return exited;
    },
  };
}
