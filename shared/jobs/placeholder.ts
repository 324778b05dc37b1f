import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { logger } from '../logging/logger';

/**
 * A job whose work a later issue fills in. It is deployed and scheduled now so
 * the wiring (schedules, rules, DLQ, grants) is real; it does nothing but say so.
 */
export function placeholderJob(name: string, filledBy: string) {
  return middy<unknown, { job: string; placeholder: true }>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      logger.warn('Placeholder job ran and did nothing', { job: name, filledBy });
      return { job: name, placeholder: true };
    });
}
