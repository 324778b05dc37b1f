import type { Result } from 'autocannon';
import type { Json } from './types';

/** The figures of an autocannon run that every load section reports. */
export function loadFigures(result: Result): { [key: string]: Json } {
  return {
    durationSeconds: result.duration,
    requestsPerSecond: { average: result.requests.average, stddev: result.requests.stddev, min: result.requests.min, max: result.requests.max },
    latencyMs: {
      average: result.latency.average,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    completed: result.latency.totalCount,
    status2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
