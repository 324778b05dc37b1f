import { jobHandler } from '../../shared/jobs/job-handler';
import { renewDueSubscriptions } from '../../shared/webhooks/subscriptions';

/** Hourly: renew Google channels (new channel, then stop the old), Graph subscriptions (PATCH) and Gmail watches before they lapse. */
export const handler = jobHandler('renew-subscriptions', () => renewDueSubscriptions());
