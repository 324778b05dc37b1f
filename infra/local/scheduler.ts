import type { LoadedFunction } from './functions';

/**
 * The local EventBridge Scheduler: runs each `schedule` function of the
 * manifest at its rate, with the input the stack's schedules send. A run never
 * overlaps the previous run of the same job.
 */
export function parseRate(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) throw new Error(`Unsupported schedule expression: ${expression}`);
  const amount = Number(match[1]);
  const unit = match[2] ?? '';
  const unitMs = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
  return amount * unitMs;
}

export const scheduleInput = (job: string) => ({ source: 'schedule', job });

export class LocalScheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly jobs: readonly LoadedFunction[],
    private readonly onError: (job: string, error: unknown) => void,
  ) {}

  start(): void {
    for (const job of this.jobs) {
      if (job.spec.trigger.kind !== 'schedule') continue;
      const everyMs = parseRate(job.spec.trigger.expression);
      this.timers.push(setInterval(() => void this.run(job.spec.name).catch(() => undefined), everyMs));
    }
  }

  /** Runs a scheduled job now (also `POST /_local/jobs/{name}`); joins a run already under way. */
  run(name: string): Promise<unknown> {
    const job = this.jobs.find((candidate) => candidate.spec.name === name && candidate.spec.trigger.kind === 'schedule');
    if (!job) return Promise.reject(new Error(`No scheduled job named ${name}`));
    const current = this.running.get(name);
    if (current) return current;
    const run = job
      .invoke(scheduleInput(name))
      .catch((error: unknown) => {
        this.onError(name, error);
        throw error;
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  jobNames(): string[] {
    return this.jobs.filter((job) => job.spec.trigger.kind === 'schedule').map((job) => job.spec.name);
  }

  /** Jobs running now (a shutdown waits for them, or names them when it gives up). */
  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  /** Resolves when no job runs. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** No more scheduled runs; the ones under way go on. */
  pause(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
  }

  async stop(): Promise<void> {
    this.pause();
    await this.idle();
  }
}
