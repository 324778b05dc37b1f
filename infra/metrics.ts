/**
 * The custom CloudWatch metrics the functions emit (Powertools Metrics, EMF) and
 * the stack alarms on. One list, so the emitters and the alarms cannot drift:
 * the stack also hands the namespace to every function as
 * `POWERTOOLS_METRICS_NAMESPACE`.
 *
 * The alarms query these metrics WITHOUT dimensions. A CloudWatch metric is
 * identified by its name *and* its dimensions, so a datapoint emitted with a
 * dimension (Powertools adds `service` by default) is a different metric that
 * no alarm here would ever see. Emit them with no dimensions
 * (Powertools: `metrics.clearDefaultDimensions()`).
 */
export const METRICS_NAMESPACE = 'HrIntegrations';

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
  /** A verified delivery that routed to no integration (count). */
  webhookDropped: 'WebhookDropped',
  /** A token refresh succeeded (count). */
  tokenRefreshed: 'TokenRefreshed',
  /** A token refresh failed, transient or dead grant (count). */
  tokenRefreshFailed: 'TokenRefreshFailed',
  /** Work given up on and dead-lettered (count). */
  deadLetter: 'DeadLetter',
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
