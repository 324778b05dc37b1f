import { jobHandler } from '../../shared/jobs/job-handler';
import { retryDueDeliveries } from '../../shared/outgoing/delivery';

/** Every minute: the outgoing webhook attempts that are due (retries with backoff; dead letters after a day). */
export const handler = jobHandler('retry-event-webhooks', () => retryDueDeliveries());
