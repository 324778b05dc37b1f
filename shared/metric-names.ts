/**
 * The custom CloudWatch metrics the functions emit (Powertools Metrics, EMF) and
 * the stack alarms on. One list, so the emitters and the alarms cannot drift:
 * the stack also hands the namespace to every function as
 * `POWERTOOLS_METRICS_NAMESPACE`.
 *
 * A CloudWatch metric is identified by its name *and* its dimensions, so the
 * emitters and the alarms must agree on them: every count carries exactly one
 * dimension, `service` = METRICS_SERVICE (Powertools' own default dimension),
 * and the alarms query that.
 */
export const METRICS_NAMESPACE = 'HrIntegrations';
export const METRICS_SERVICE = 'hr-integrations';

export const METRIC_NAMES = {
  /** One sync pass of one integration finished (count). */
  syncSucceeded: 'SyncSucceeded',
  /** One sync pass failed after its own retries (count); the failure-rate alarm's numerator. */
  syncFailed: 'SyncFailed',
  /** Records stored by a sync pass (count). */
  syncRecords: 'SyncRecords',
  /** A verified webhook delivery was accepted (count). */
  webhookAccepted: 'WebhookAccepted',
  /** A provider's redelivery of an event already processed (count). */
  webhookDuplicate: 'WebhookDuplicate',
  /** A delivery that failed verification (signature, channel token, clientState) (count). */
  webhookRejected: 'WebhookRejected',
  /** A verified delivery that reached no connected integration: unrouted, or its integration disconnected or erased (count). */
  webhookDropped: 'WebhookDropped',
  /** A token refresh succeeded (count). */
  tokenRefreshed: 'TokenRefreshed',
  /** A token refresh failed, transient or dead grant (count). */
  tokenRefreshFailed: 'TokenRefreshFailed',
  /** Work given up on and dead-lettered (count). */
  deadLetter: 'DeadLetter',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
