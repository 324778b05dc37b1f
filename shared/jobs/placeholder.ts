import { logger } from '../logging/logger';
import { jobHandler } from './job-handler';

/**
 * A job whose work a later issue fills in. It is deployed and scheduled now so
 * the wiring (schedules, rules, DLQ, grants) is real; it does nothing but say so.
 */
export function placeholderJob(name: string, filledBy: string) {
  return jobHandler(name, async () => {
    logger.warn('Placeholder job ran and did nothing', { job: name, filledBy });
    return { placeholder: true as const };
  });
}
