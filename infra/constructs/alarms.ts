import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
  type IAlarmAction,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/metric-names';

/**
 * Sync failure rate: failed / (succeeded + failed) over one dispatch interval
 * (every integration is synced at least once per 15 minutes). Below the minimum
 * volume the rate is too noisy to page on (1 failure in 2 syncs is 50%).
 */
export const SYNC_FAILURE_ALARM = {
  periodMinutes: 15,
  thresholdPercent: 20,
  minimumSyncs: 5,
} as const;

/**
 * Webhook 5xx: every provider sees a 5xx as "retry later", and Slack disables a
 * request URL that keeps failing, so a handful in five minutes is worth a page.
 * Throttling by the reserved concurrency answers 429 and does not count here.
 */
export const WEBHOOK_5XX_ALARM = {
  periodMinutes: 5,
  threshold: 5,
} as const;

export interface AlarmsProps {
  /** The SQS dead-letter queue of schedules, event rules and async invocations. */
  deadLetterQueue: IQueue;
  /** Webhook functions by provider, each behind its Function URL. */
  webhooks: ReadonlyMap<string, IFunction>;
  /** Optional e-mail address subscribed to the topic (context `alarmEmail`). */
  email?: string;
}

/**
 * The stack's alarms and the one SNS topic they notify (in alarm and back to OK).
 * Alarm names start with the stack name, which the topic and key policies use
 * to let only this stack's alarms publish.
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly deadLetters: Alarm;
  readonly syncFailureRate: Alarm;
  readonly webhook5xx = new Map<string, Alarm>();

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const namePrefix = `${stack.stackName}-`;
    const alarmArns = stack.formatArn({
      service: 'cloudwatch',
      resource: 'alarm',
      resourceName: `${namePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    // Confused-deputy guard: CloudWatch acts here only for this account's alarms of this stack.
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': alarmArns },
    };

    // The AWS-managed SNS key cannot be used: its policy does not let CloudWatch publish.
    this.topicKey = new Key(this, 'TopicKey', {
      description: 'Encrypts the alarm notification topic',
      enableKeyRotation: true,
      // It protects nothing but notifications in flight; a deleted stack needs no orphaned key.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishEncrypted',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );

    this.topic = new Topic(this, 'Topic', {
      displayName: `${stack.stackName} alarms`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one (which let the account publish), so CloudWatch
    // needs its own statement; without it the alarms would change state and notify nobody.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    const notify = new SnsAction(this.topic);

    this.deadLetters = this.notifying(
      notify,
      new Alarm(this, 'DeadLetters', {
        alarmName: `${namePrefix}dead-letters`,
        alarmDescription:
          'Work was dead-lettered: a schedule, SyncRequested event or async invocation still failed after its retries. Inspect the DLQ messages, fix, then redrive.',
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // SQS stops publishing for an idle, empty queue; a queue holding messages keeps reporting.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const period = Duration.minutes(SYNC_FAILURE_ALARM.periodMinutes);
    // The one dimension the emitters publish with (see shared/metric-names.ts).
    const syncMetric = (metricName: string) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: METRICS_SERVICE }, statistic: 'Sum', period });
    // FILL: a period with only successes has no SyncFailed datapoint, and arithmetic on a
    // missing value yields nothing; IF: below the minimum volume the rate reads 0.
    const total = 'FILL(succeeded, 0) + FILL(failed, 0)';
    this.syncFailureRate = this.notifying(
      notify,
      new Alarm(this, 'SyncFailureRate', {
        alarmName: `${namePrefix}sync-failure-rate`,
        alarmDescription: `More than ${SYNC_FAILURE_ALARM.thresholdPercent}% of at least ${SYNC_FAILURE_ALARM.minimumSyncs} syncs failed in ${SYNC_FAILURE_ALARM.periodMinutes} minutes (metrics ${METRIC_NAMES.syncFailed} / ${METRIC_NAMES.syncSucceeded}). Check the sync-worker logs and the providers' status.`,
        metric: new MathExpression({
          expression: `IF((${total}) >= ${SYNC_FAILURE_ALARM.minimumSyncs}, 100 * FILL(failed, 0) / (${total}), 0)`,
          usingMetrics: {
            failed: syncMetric(METRIC_NAMES.syncFailed),
            succeeded: syncMetric(METRIC_NAMES.syncSucceeded),
          },
          label: 'Sync failure rate (%)',
          period,
        }),
        threshold: SYNC_FAILURE_ALARM.thresholdPercent,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const [provider, fn] of props.webhooks) {
      this.webhook5xx.set(
        provider,
        this.notifying(
          notify,
          new Alarm(this, `Webhook5xx${provider.charAt(0).toUpperCase()}${provider.slice(1)}`, {
            alarmName: `${namePrefix}webhook-${provider}-5xx`,
            alarmDescription: `The ${provider} webhook Function URL answered 5xx (function errors or timeouts); the provider will retry, and may disable the subscription if it persists.`,
            // Function URL metrics carry the function name for its unqualified ($LATEST) URL.
            metric: fn.metric('Url5xxCount', {
              statistic: 'Sum',
              period: Duration.minutes(WEBHOOK_5XX_ALARM.periodMinutes),
            }),
            threshold: WEBHOOK_5XX_ALARM.threshold,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            // The metric is sparse: no 5xx, no datapoint.
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
        ),
      );
    }
  }

  /** Notifies on entering ALARM and on recovering, so nobody has to check whether it cleared. */
  private notifying(action: IAlarmAction, alarm: Alarm): Alarm {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}
