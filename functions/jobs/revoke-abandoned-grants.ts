import { revokeAbandonedGrants } from '../../shared/domain/completion';
import { jobHandler } from '../../shared/jobs/job-handler';

/** Every 5 minutes: grants exchanged at the callback but never completed by their initiator are revoked and forgotten. */
export const handler = jobHandler('revoke-abandoned-grants', () => revokeAbandonedGrants());
