import { jobHandler } from '../../shared/jobs/job-handler';
import { sweepExpiringTokens } from '../../shared/oauth/refresh-sweep';

/** Every 15 minutes: refresh the tokens that would expire before the next run, so idle integrations stay alive. */
const HORIZON_MS = 20 * 60 * 1000;

export const handler = jobHandler('refresh-tokens', () => sweepExpiringTokens(HORIZON_MS));
