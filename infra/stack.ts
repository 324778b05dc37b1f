import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, type CfnElement, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  LogGroupLogDestination,
  type HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../shared/events/catalog';
import { TABLE } from '../shared/store/table';
import { ManifestFunction, pascalCase, SERVICE_NAME, validateAccess } from './constructs/manifest-function';
import { manifest as defaultManifest, type FunctionSpec } from './manifest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const EVENT_BUS_NAME = 'hr-integrations';
export const TOKEN_KEY_ALIAS = 'alias/hr-integrations-tokens';

/** Retry policy shared by schedule and event-rule targets. */
const TARGET_RETRY_ATTEMPTS = 4;
const TARGET_MAX_EVENT_AGE = Duration.hours(2);

export interface IntegrationsStackProps extends StackProps {
  /** The functions to create; defaults to `infra/manifest.ts`. */
  manifest?: readonly FunctionSpec[];
  /** Default: context `jwtIssuer`. */
  jwtIssuer?: string;
  /** Default: context `jwtAudience`. */
  jwtAudience?: string;
  /** Default: context `appBaseUrl`. */
  appBaseUrl?: string;
  /** Default: context `apiBaseUrl`, else the HTTP API's endpoint. */
  apiBaseUrl?: string;
}

/** `rate(15 minutes)` / `rate(1 hour)` → Scheduler expression. Anything else throws. */
export function parseRate(expression: string): ScheduleExpression {
  const match = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(expression);
  const value = match ? Number(match[1]) : 0;
  const unit = match?.[2];
  if (!match || !Number.isSafeInteger(value) || value < 1 || (value === 1) !== !unit!.endsWith('s')) {
    throw new Error(`Unsupported schedule expression "${expression}": expected rate(N minutes|hours)`);
  }
  const duration = unit!.startsWith('minute') ? Duration.minutes(value) : Duration.hours(value);
  return ScheduleExpression.rate(duration);
}

/**
 * The whole integrations backend. Every Lambda, route, Function URL, schedule,
 * event rule and grant is derived from the manifest, so adding an entry needs
 * no change here.
 */
export class IntegrationsStack extends Stack {
  readonly table: TableV2;
  readonly tokenKey: Key;
  readonly bus: EventBus;
  readonly deadLetterQueue: Queue;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly providerCredentials: Secret;
  readonly functions = new Map<string, ManifestFunction>();

  constructor(scope: Construct, id: string, props: IntegrationsStackProps = {}) {
    super(scope, id, props);
    const specs = props.manifest ?? defaultManifest;
    const jwtIssuer = props.jwtIssuer ?? this.requiredContext('jwtIssuer');
    const jwtAudience = props.jwtAudience ?? this.requiredContext('jwtAudience');
    const appBaseUrl = props.appBaseUrl ?? this.requiredContext('appBaseUrl');
    validateManifest(specs);

    // --- data -------------------------------------------------------------
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes: Object.values(TABLE.indexes).map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      })),
      timeToLiveAttribute: TABLE.ttlAttribute,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // AWS-owned key: a customer-managed key would need an environment-specific stack (aws-notes §1.4).
      encryption: TableEncryptionV2.dynamoOwnedKey(),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.tokenKey = new Key(this, 'TokenKey', {
      description: 'Wraps the branch keys that seal integration tokens',
      alias: TOKEN_KEY_ALIAS,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bus = new EventBus(this, 'Bus', { eventBusName: EVENT_BUS_NAME });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedules, event rules and async invocations.',
    });

    // --- HTTP API ---------------------------------------------------------
    this.api = new HttpApi(this, 'Api', {
      apiName: SERVICE_NAME,
      description: 'HR integrations API',
      createDefaultStage: false,
      corsPreflight: {
        allowOrigins: [appBaseUrl],
        allowMethods: [
          CorsHttpMethod.GET,
          CorsHttpMethod.POST,
          CorsHttpMethod.PUT,
          CorsHttpMethod.PATCH,
          CorsHttpMethod.DELETE,
        ],
        allowHeaders: ['authorization', 'content-type'],
        maxAge: Duration.hours(1),
      },
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 100, burstLimit: 200 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            latency: '$context.responseLatency',
            integrationError: '$context.integrationErrorMessage',
            authorizerError: '$context.authorizer.error',
          }),
        ),
      },
    });
    // Gmail push is optional: a Pub/Sub topic for users.watch and the audience its push subscription signs for.
    const gmailPubsubTopic = this.node.tryGetContext('gmailPubsubTopic') as string | undefined;
    const gmailPushAudience = this.node.tryGetContext('gmailPushAudience') as string | undefined;

    // A custom domain in front of the API is named by context `apiBaseUrl`; else the API's own endpoint.
    const apiBaseUrl = props.apiBaseUrl ?? (this.node.tryGetContext('apiBaseUrl') as string | undefined) ?? this.api.apiEndpoint;

    this.providerCredentials = new Secret(this, 'ProviderCredentials', {
      description:
        'OAuth client credentials as JSON: SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET, MICROSOFT_TENANT',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.providerCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'OAuth client secrets are issued and rotated in each provider\'s developer console; a Lambda rotation function cannot rotate them.',
    });

    const jwtAuthorizer = new HttpJwtAuthorizer('Jwt', jwtIssuer, { jwtAudience: [jwtAudience] });

    // --- functions --------------------------------------------------------
    const webhookUrls = new Map<string, string>();
    for (const spec of specs) {
      const id = pascalCase(spec.name);
      const asyncTrigger = spec.trigger.kind === 'schedule' || spec.trigger.kind === 'event';
      const fn = new ManifestFunction(this, id, {
        spec,
        repoRoot: REPO_ROOT,
        table: this.table,
        tokenKey: this.tokenKey,
        bus: this.bus,
        appBaseUrl,
        apiBaseUrl,
        providerCredentials: this.providerCredentials,
        ...(asyncTrigger ? { asyncDeadLetterQueue: this.deadLetterQueue } : {}),
      });
      this.functions.set(spec.name, fn);
      const trigger = spec.trigger;

      switch (trigger.kind) {
        case 'http': {
          const routes = this.api.addRoutes({
            path: trigger.path,
            methods: [HttpMethod[trigger.method]],
            integration: new HttpLambdaIntegration(`${id}Integration`, fn.fn),
            ...(trigger.auth === 'jwt' ? { authorizer: jwtAuthorizer } : {}),
          });
          if (trigger.auth === 'public') {
            for (const route of routes) {
              Validations.of(route).acknowledge({
                id: 'AwsSolutions-APIG4',
                reason: `${trigger.method} ${trigger.path} is public by design (e.g. the OAuth callback): the caller is authenticated in code by a single-use, expiring state value.`,
              });
            }
          }
          break;
        }
        case 'webhook': {
          const url = fn.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
          webhookUrls.set(trigger.provider, url.url);
          new CfnOutput(this, `WebhookUrl${pascalCase(trigger.provider)}`, {
            value: url.url,
            description: `Webhook URL for ${trigger.provider} (signature verified in code)`,
          });
          break;
        }
        case 'schedule': {
          const role = new Role(this, `${id}ScheduleRole`, {
            assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
              conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
            }),
            description: `EventBridge Scheduler role invoking ${spec.name}`,
          });
          new Schedule(this, `${id}Schedule`, {
            description: spec.description,
            schedule: parseRate(trigger.expression),
            target: new LambdaInvoke(fn.fn, {
              role,
              input: ScheduleTargetInput.fromObject({ source: 'schedule', job: spec.name }),
              retryAttempts: TARGET_RETRY_ATTEMPTS,
              maxEventAge: TARGET_MAX_EVENT_AGE,
              deadLetterQueue: this.deadLetterQueue,
            }),
          });
          Validations.of(role).acknowledge({
            id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(fn.fn.node.defaultChild as CfnElement)}.Arn>:*]`,
            reason: `lambda:InvokeFunction on ${spec.name} and its own versions/aliases (\`<arn>:*\`), as CDK's grantInvoke writes it; no other function.`,
          });
          break;
        }
        case 'event': {
          new Rule(this, `${id}Rule`, {
            description: spec.description,
            eventBus: this.bus,
            eventPattern: { source: [EVENT_SOURCE], detailType: [trigger.detailType] },
            targets: [
              new LambdaFunction(fn.fn, {
                retryAttempts: TARGET_RETRY_ATTEMPTS,
                maxEventAge: TARGET_MAX_EVENT_AGE,
                deadLetterQueue: this.deadLetterQueue,
              }),
            ],
          });
          break;
        }
      }
    }

    // Functions that open push subscriptions tell providers where to deliver: the webhook Function URLs.
    for (const [name, fn] of this.functions) {
      const spec = specs.find((candidate) => candidate.name === name);
      // A webhook function never needs its own URL (and referencing it would be a cycle).
      if (!spec?.access.providerCredentials || spec.trigger.kind === 'webhook') continue;
      for (const [provider, url] of webhookUrls) fn.fn.addEnvironment(`WEBHOOK_URL_${provider.toUpperCase()}`, url);
      if (gmailPubsubTopic) fn.fn.addEnvironment('GMAIL_PUBSUB_TOPIC', gmailPubsubTopic);
    }
    // Gmail's Pub/Sub push carries an OIDC token for this audience (set on the push subscription).
    const googleWebhook = specs.find((spec) => spec.trigger.kind === 'webhook' && spec.trigger.provider === 'google');
    if (gmailPushAudience && googleWebhook) this.functions.get(googleWebhook.name)?.fn.addEnvironment('GMAIL_PUSH_AUDIENCE', gmailPushAudience);

    // --- outputs ----------------------------------------------------------
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'TokenKeyArn', { value: this.tokenKey.keyArn });
  }

  private requiredContext(key: string): string {
    const value: unknown = this.node.tryGetContext(key);
    if (typeof value !== 'string' || value === '') {
      throw new Error(`Missing CDK context "${key}" (set it in cdk.json or with -c ${key}=...)`);
    }
    return value;
  }
}

function validateManifest(specs: readonly FunctionSpec[]): void {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (seen.has(spec.name)) throw new Error(`Manifest entry "${spec.name}" is listed twice`);
    seen.add(spec.name);
    validateAccess(spec);
    if (spec.trigger.kind === 'schedule') parseRate(spec.trigger.expression);
  }
}
