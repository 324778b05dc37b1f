/**
 * AWS list prices the cost model uses (test/bench/sections/cost-model.ts):
 * us-east-1, on-demand, no free tier (it is per account and small next to
 * 100,000 integrations), USD. Read on 2026-12-02 from the pages named in
 * `source`; this environment cannot open aws.amazon.com directly, so each
 * figure was checked against the public page text a search returned, and the
 * source says which. Update the figures and `READ_ON` together.
 */
export const READ_ON = '2026-12-02';
export const REGION = 'us-east-1';

export interface Price {
  usd: number;
  per: string;
  source: string;
}

export const prices = {
  lambdaRequest: {
    usd: 0.2 / 1_000_000,
    per: 'request',
    source: 'aws.amazon.com/lambda/pricing ($0.20 per 1M requests; excerpt of the page and kodekloud/cloudchipr summaries)',
  },
  lambdaGbSecondArm: {
    usd: 0.0000133334,
    per: 'GB-second (arm64, first 7.5 billion GB-s a month)',
    source: 'cloudchipr.com/blog/aws-lambda-pricing quoting the us-east-1 Arm tier; aws.amazon.com/lambda/pricing (init code is billed too)',
  },
  dynamoWriteUnit: {
    usd: 0.625 / 1_000_000,
    per: 'write request unit (on-demand; 1 KB)',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing ($0.625 per million WRU, after the November 2024 on-demand price cut); one 2026 page still quotes the pre-cut $1.25/$0.25',
  },
  dynamoReadUnit: {
    usd: 0.125 / 1_000_000,
    per: 'read request unit (on-demand; one consistent or two eventually consistent reads of 4 KB)',
    source: 'airbyte.com/data-engineering-resources/dynamodb-pricing ($0.125 per million RRU)',
  },
  dynamoStorageGbMonth: {
    usd: 0.25,
    per: 'GB-month (standard table class, beyond 25 GB free)',
    source: 'AWS DynamoDB pricing page, standard table class; not re-checked by search',
  },
  eventBridgeEvent: {
    usd: 1 / 1_000_000,
    per: 'custom event published (64 KB chunk); same-account rule delivery free',
    source: 'cloudburn.io/blog/amazon-eventbridge-pricing (March 2026) and wring.co EventBridge guide',
  },
  schedulerInvocation: {
    usd: 1 / 1_000_000,
    per: 'EventBridge Scheduler invocation (beyond 14M free a month)',
    source: 'cloudburn.io/blog/amazon-eventbridge-pricing (March 2026); one guide claims Scheduler is free: the $1/M figure is the conservative one',
  },
  kmsRequest: {
    usd: 0.03 / 10_000,
    per: 'KMS request (symmetric)',
    source: 'aws.amazon.com/kms/pricing and wring.co KMS guide ($0.03 per 10,000)',
  },
  kmsKeyMonth: {
    usd: 1,
    per: 'customer managed key-month (+$1 per rotated backing key, first two rotations)',
    source: 'aws.amazon.com/kms/pricing',
  },
  logIngestGb: {
    usd: 0.5,
    per: 'GB of Lambda logs ingested (standard class, first tier)',
    source: 'duckbillgroup.com on the May 2024 tiered Lambda log pricing; hykell.com and c3x.dev ($0.50/GB us-east-1)',
  },
  logStorageGbMonth: {
    usd: 0.03,
    per: 'GB-month of logs stored (compressed; retention is one month)',
    source: 'hykell.com CloudWatch Logs pricing; c3x.dev (June 2026)',
  },
  httpApiRequest: {
    usd: 1 / 1_000_000,
    per: 'HTTP API request (first 300M a month, 512 KB increments)',
    source: 'apigatewaycost.com and amnic.com quoting aws.amazon.com/api-gateway/pricing',
  },
  secretMonth: {
    usd: 0.4,
    per: 'Secrets Manager secret-month',
    source: 'hivebook.wiki Secrets Manager overview ($0.40 per secret-month, $0.05 per 10k calls)',
  },
  secretRequest: {
    usd: 0.05 / 10_000,
    per: 'Secrets Manager API call',
    source: 'hivebook.wiki Secrets Manager overview',
  },
  alarmMonth: {
    usd: 0.1,
    per: 'standard-resolution alarm-month',
    source: 'c3x.dev aws_cloudwatch_metric_alarm pricing ($0.10 standard)',
  },
  customMetricMonth: {
    usd: 0.3,
    per: 'custom metric-month (EMF; first 10,000 metrics)',
    source: 'hivebook.wiki CloudWatch Logs cost page ($0.30 per metric-month, first tier)',
  },
} as const satisfies Record<string, Price>;
