/**
 * Operational counts as CloudWatch metrics (Powertools Metrics, embedded
 * metric format: a log line CloudWatch turns into datapoints, no API call).
 * Each count is written at once as its own line, so invocations that overlap
 * (the local runtime runs every function in one process) never flush each
 * other's, with the one `service` dimension the stack's alarms query.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE, type MetricName } from './metric-names';

const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

export function countMetric(name: MetricName, value = 1): void {
  if (value <= 0) return;
  metrics.singleMetric().addMetric(name, MetricUnit.Count, value);
}

const WEBHOOK_OUTCOMES: Record<string, MetricName> = {
  processed: 'WebhookAccepted',
  duplicate: 'WebhookDuplicate',
  dropped: 'WebhookDropped',
  unrouted: 'WebhookDropped',
  unauthorized: 'WebhookRejected',
  bad_request: 'WebhookRejected',
  validation_failed: 'WebhookRejected',
};

/** One webhook delivery's outcome as a count (protocol messages such as Google's `sync` count as nothing). */
export function countWebhookOutcome(outcome: string): void {
  const name = WEBHOOK_OUTCOMES[outcome];
  if (name) countMetric(name);
}
