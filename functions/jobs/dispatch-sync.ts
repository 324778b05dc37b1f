import { jobHandler } from '../../shared/jobs/job-handler';
import { dispatchDueSyncs } from '../../shared/sync/dispatch';

/** Every 15 minutes: publish SyncRequested for every integration whose scheduled sync is due. */
export const handler = jobHandler('dispatch-sync', () => dispatchDueSyncs());
