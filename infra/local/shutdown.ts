import type { DataDirLock } from './data-dir';
import { settlesBy } from './deadline';
import type { EmbeddedDynamo } from './embedded-store';
import type { LocalServer } from './server';
import type { LocalTtlSweeper } from './ttl-sweeper';

/**
 * How the local runtime stops on SIGINT (Ctrl-C) or SIGTERM, like a
 * well-behaved server: it refuses new work, lets the work under way finish
 * (requests, bus deliveries with their retries, jobs, the TTL sweep) for up
 * to `drainMs`, and only then closes the store, so nothing under way fails
 * because the bus or the store went first. What still runs at the deadline is
 * given up without being recorded as failed: the store closes first, so it
 * can no longer write anything, a failure included. The process exits once
 * DATA_DIR is free (store closed, lock file removed), so whoever waits for it
 * (a terminal, npm) gets the prompt back only when an immediate restart
 * can come up.
 */
export interface RuntimeParts {
  server: LocalServer;
  dynamo: EmbeddedDynamo;
  ttlSweeper: LocalTtlSweeper;
  sandbox: { close(): Promise<void> };
  lock: DataDirLock;
}

export interface ShutdownOptions {
  drainMs: number;
  log: (line: string) => void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Installs the signal handlers at once; `ready` hands over what to stop once it all runs. */
export function stopOnSignals(options: ShutdownOptions): { ready(parts: RuntimeParts): void } {
  let parts: RuntimeParts | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // Under npm a terminal's Ctrl-C arrives twice (from the terminal, and forwarded by npm): one stop is enough.
    if (stopping) return;
    stopping = true;
    if (!parts) {
      // Nothing serves yet: the lock file goes with the process (its exit hook), the store recovers from its log.
      options.log(`[local] ${signal} while starting: stopped`);
      process.exit(0);
    }
    // Closing takes moments once the drain is over; should a step hang anyway, the process still ends.
    setTimeout(() => {
      options.log('[local] stopping took too long; exiting now');
      process.exit(1);
    }, options.drainMs + 5_000).unref();
    shutdown(signal, parts, options).then(
      () => process.exit(0),
      (error: unknown) => {
        options.log(`[local] error while stopping: ${message(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { ready: (runtime) => (parts = runtime) };
}

async function shutdown(signal: NodeJS.Signals, parts: RuntimeParts, { drainMs, log }: ShutdownOptions): Promise<void> {
  const { server, dynamo, ttlSweeper, sandbox, lock } = parts;
  const started = Date.now();
  const deadline = started + drainMs;
  log(`[local] ${signal}: stopping; new requests get 503, work under way has up to ${drainMs / 1000} s to finish`);
  // Work given up at the deadline may still throw against the closing store; that must not end the stop with a
  // stack. dynalite throws "Database is closed" for a request it was still answering: expected, so not printed.
  process.on('uncaughtException', (error) => {
    if (message(error) !== 'Database is closed') log(`[local] abandoned work failed while stopping: ${message(error)}`);
  });

  server.stopAccepting();
  ttlSweeper.pause();
  const [left, swept] = await Promise.all([server.settle(deadline), settlesBy(ttlSweeper.idle(), deadline)]);
  const abandoned = swept ? left : [...left, 'TTL sweep'];
  if (abandoned.length > 0) {
    log(`[local] stopping: abandoned after ${drainMs / 1000} s (not recorded as failed; a sync goes on from its stored cursor next time): ${abandoned.join('; ')}`);
    server.abandon();
  }

  // The store first: from here on nothing given up can write; then the HTTP side (sandbox, bus endpoint).
  const storeClosed = dynamo.close();
  await server.close();
  await storeClosed;
  await sandbox.close();
  await ttlSweeper.stop();
  lock.release();
  log(abandoned.length > 0 ? `[local] stopped in ${Date.now() - started} ms, giving up on ${abandoned.length}` : `[local] stopped cleanly in ${Date.now() - started} ms`);
}
