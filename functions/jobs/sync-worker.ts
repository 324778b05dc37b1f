import { placeholderJob } from '../../shared/jobs/placeholder';

/** PLACEHOLDER: wired and scheduled now; its work arrives with the sync engine issue (#5). */
export const handler = placeholderJob('sync-worker', 'the sync engine issue (#5)');
