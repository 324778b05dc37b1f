import { jobHandler } from '../../shared/jobs/job-handler';
import { deliverEvent } from '../../shared/outgoing/delivery';

/** On connected, disconnected, health_changed, alert and synced events: one signed delivery per subscribed endpoint, attempted at once. */
export const handler = jobHandler('deliver-event-webhooks', (event: unknown) => deliverEvent(event));
