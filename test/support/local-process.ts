import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Runs the local runtime (`npm start`'s entry) as a child process, as a user would. */
const root = join(import.meta.dirname, '..', '..');

export interface LocalProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The environment a new user has: none of the test suite's AWS or key variables. */
export function userEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
  return env;
}

export async function startLocalProcess(env: Record<string, string>, timeoutMs = 30_000): Promise<LocalProcess> {
  // The run's log audit (global setup) reads this runtime's output and the secrets its sandbox issues.
  const audit: Record<string, string> = process.env.SANDBOX_SECRETS_LEDGER ? { SANDBOX_SECRETS_LEDGER: process.env.SANDBOX_SECRETS_LEDGER } : {};
  // One process (tsx as a loader, not its CLI wrapper), so a signal, SIGKILL included, reaches the runtime itself.
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
    cwd: root,
    env: userEnvironment({ PORT: '0', LOCAL_SCHEDULER: 'off', ...audit, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const auditLog = process.env.SANDBOX_SECRETS_LEDGER ? join(dirname(process.env.SANDBOX_SECRETS_LEDGER), `log-runtime-${Date.now()}-${Math.random().toString(36).slice(2)}.log`) : undefined;
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
    if (auditLog) appendFileSync(auditLog, chunk);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime did not start:\n${output}`)), timeoutMs);
    const check = () => {
      const match = /Listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited with ${code}:\n${output}`));
    });
  });

  return {
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
