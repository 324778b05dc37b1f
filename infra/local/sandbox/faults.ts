import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { providerIdSchema, type ProviderId } from './state';

/**
 * Injected failures: the next `times` requests of a provider whose path (after
 * the provider segment) starts with `path` are delayed by `delayMs` and/or
 * answered with `status` in the provider's own error shape.
 */

export const FAULT_STATUSES = [429, 500, 502, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

/** `Retry-After` of a 429 when the fault names none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;

export const faultSpecSchema = z
  .object({
    provider: providerIdSchema,
    path: z.string().refine((path) => path === '' || path.startsWith('/'), 'must be empty or start with "/"'),
    status: z.union([z.literal(429), z.literal(500), z.literal(502), z.literal(503)]).optional(),
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    delayMs: z.number().int().min(0).max(3_600_000).optional(),
    times: z.number().int().min(1).max(1_000_000),
  })
  .strict()
  .refine((fault) => fault.status !== undefined || fault.delayMs !== undefined, 'a fault needs a status, a delayMs or both');
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface ActiveFault extends FaultSpec {
  remaining: number;
}

export class FaultQueue {
  private faults: ActiveFault[] = [];

  add(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.times });
  }

  clear(): void {
    this.faults = [];
  }

  list(): ActiveFault[] {
    return this.faults.map((fault) => ({ ...fault }));
  }

  /** The first fault matching this request, consumed once. */
  take(provider: ProviderId, path: string): FaultSpec | undefined {
    const index = this.faults.findIndex((fault) => fault.provider === provider && path.startsWith(fault.path) && fault.remaining > 0);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    const { remaining: _remaining, ...spec } = fault;
    return spec;
  }
}

/** Fault delays; `cancelAll` ends every pending one (on shutdown) so nothing waits on a closed server. */
export class Delays {
  private controller = new AbortController();

  async wait(ms: number): Promise<void> {
    if (ms <= 0) return;
    try {
      await sleep(ms, undefined, { signal: this.controller.signal, ref: false });
    } catch {
      // cancelled
    }
  }

  cancelAll(): void {
    this.controller.abort();
    this.controller = new AbortController();
  }
}
