import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { runWithDeadline } from '../deadline';
import { logger } from '../logging/logger';
import { loadProviderCredentials } from '../oauth/provider-secrets';

/** A scheduled or event-driven job as a Lambda handler: structured logs around the work, errors rethrown so the retry policy and DLQ see them. */
export function jobHandler<E, R extends object>(name: string, run: (event: E) => Promise<R>) {
  return middy<E, R & { job: string }>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) =>
      runWithDeadline(context.getRemainingTimeInMillis(), async () => {
        await loadProviderCredentials();
        const started = Date.now();
        const result = await run(event);
        logger.info('Job finished', { job: name, durationMs: Date.now() - started, ...result });
        return { job: name, ...result };
      }),
    );
}
