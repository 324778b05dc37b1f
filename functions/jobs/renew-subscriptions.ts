import { placeholderJob } from '../../shared/jobs/placeholder';

/** PLACEHOLDER: wired and scheduled now; its work arrives with the webhooks issue (#4). */
export const handler = placeholderJob('renew-subscriptions', 'the webhooks issue (#4)');
