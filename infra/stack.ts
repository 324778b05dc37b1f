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
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../shared/events/catalog';
import { providerDefinitions } from '../shared/providers/registry';
import { TABLE } from '../shared/store/table';
import { Alarms } from './constructs/alarms';
import { ManifestFunction, pascalCase, SERVICE_NAME, validateAccess } from './constructs/manifest-function';
import { TableKey } from './constructs/table-key';
import { manifest as defaultManifest, type FunctionSpec } from './manifest';

export { SYNC_FAILURE_ALARM, WEBHOOK_5XX_ALARM } from './constructs/alarms';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const EVENT_BUS_NAME = 'hr-integrations';
export const TOKEN_KEY_ALIAS = 'alias/hr-integrations-tokens';

/**
 * Stage-wide API throttling (requests per second, steady and burst) in front of
 * every route: API Gateway answers 429 beyond it, before any Lambda runs.
 */
export const API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * Reserved concurrency of each webhook function (unless its spec sets one). The
 * Function URLs are public, so a flood (a provider's backlog replay, or anyone
 * who found the URL) could otherwise take the account's whole concurrency and
 * starve the API and the sync workers. Beyond the cap a delivery is throttled
 * (429) and the providers retry it later. A handler takes well under a second
 * (verify, one conditional write, PutEvents), so 25 at once is hundreds of
 * deliveries a second per provider. Lambda keeps 100 of the account's
 * concurrency unreserved; the stack's reservations must fit in the rest.
 */
export const WEBHOOK_RESERVED_CONCURRENCY = 25;

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

/**
 * CORS allows exactly the methods the API's routes use, plus the preflight's
 * own OPTIONS; a method no route has would only widen what a browser may try.
 */
export function corsMethods(specs: readonly FunctionSpec[]): CorsHttpMethod[] {
  const methods = new Set(specs.flatMap((spec) => (spec.trigger.kind === 'http' ? [spec.trigger.method] : [])));
  return [...[...methods].sort().map((method) => CorsHttpMethod[method]), CorsHttpMethod.OPTIONS];
}

/** An `Origin` header is scheme, host and port: a trailing slash or path in `appBaseUrl` would never match. */
function originOf(appBaseUrl: string): string {
  try {
    return new URL(appBaseUrl).origin;
  } catch {
    throw new Error(`appBaseUrl "${appBaseUrl}" is not an absolute URL`);
  }
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
  /** Encrypts the table at rest; its policy names the roles of the functions with table access. */
  readonly tableKey: Key;
  readonly tokenKey: Key;
  readonly bus: EventBus;
  readonly deadLetterQueue: Queue;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly providerCredentials: Secret;
  /** Signs pagination cursors; read by the API functions that page through the table. */
  readonly cursorKey: Secret;
  readonly alarms: Alarms;
  readonly alarmTopic: Topic;
  readonly alarmTopicKey: Key;
  readonly functions = new Map<string, ManifestFunction>();

  constructor(scope: Construct, id: string, props: IntegrationsStackProps = {}) {
    super(scope, id, props);
    const specs = props.manifest ?? defaultManifest;
    const jwtIssuer = props.jwtIssuer ?? this.requiredContext('jwtIssuer');
    const jwtAudience = props.jwtAudience ?? this.requiredContext('jwtAudience');
    const appBaseUrl = props.appBaseUrl ?? this.requiredContext('appBaseUrl');
    validateManifest(specs);

    // --- data -------------------------------------------------------------
    const tableKey = new TableKey(this, 'TableKey');
    this.tableKey = tableKey.key;
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
      // Employee data and sealed tokens: a key whose policy we control, rotation and CloudTrail
      // per use. It makes the stack region-specific (infra/app.ts resolves the region).
      encryption: TableEncryptionV2.customerManagedKey(this.tableKey),
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
        allowOrigins: [originOf(appBaseUrl)],
        allowMethods: corsMethods(specs),
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
      throttle: { ...API_THROTTLE },
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
    // Provider settings that come from context (Gmail's optional Pub/Sub topic and push audience), as each provider declares them.
    const providerContext = providerDefinitions().flatMap((provider) =>
      (provider.wiring?.deployContext ?? []).flatMap((setting) => {
        const value = this.node.tryGetContext(setting.context) as string | undefined;
        return value ? [{ providerId: provider.catalog.id, env: setting.env, target: setting.target, value }] : [];
      }),
    );

    // A custom domain in front of the API is named by context `apiBaseUrl`; else the API's own endpoint.
    const apiBaseUrl = props.apiBaseUrl ?? (this.node.tryGetContext('apiBaseUrl') as string | undefined) ?? this.api.apiEndpoint;

    this.providerCredentials = new Secret(this, 'ProviderCredentials', {
      description: `OAuth client credentials as JSON: ${providerDefinitions()
        .flatMap((provider) => (provider.oauth ? [provider.oauth.credentialEnv.clientId, provider.oauth.credentialEnv.clientSecret, ...(provider.wiring?.secretKeys ?? [])] : []))
        .join(', ')}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.providerCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'OAuth client secrets are issued and rotated in each provider\'s developer console; a Lambda rotation function cannot rotate them.',
    });

    this.cursorKey = new Secret(this, 'CursorKey', {
      description: 'HMAC key that signs API pagination cursors (generated; read by the paging API functions)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      // Regenerated on a redeploy after deletion; losing it only invalidates outstanding cursors.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.cursorKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'No scheduled rotation: the key only authenticates short-lived pagination cursors (the query a cursor continues is still built from the caller\'s verified token), so a rotation Lambda is not worth owning. Rotating by hand (put-secret-value) is safe at any time: outstanding cursors then fail as 400 and clients restart from the first page; warm containers keep the old key until they are recycled.',
    });

    const jwtAuthorizer = new HttpJwtAuthorizer('Jwt', jwtIssuer, { jwtAudience: [jwtAudience] });

    // --- functions --------------------------------------------------------
    const webhookUrls = new Map<string, string>();
    const webhookFunctions = new Map<string, NodejsFunction>();
    const tableReaders: IRole[] = [];
    const tableWriters: IRole[] = [];
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
        cursorKey: this.cursorKey,
        ...(asyncTrigger ? { asyncDeadLetterQueue: this.deadLetterQueue } : {}),
        ...(spec.trigger.kind === 'webhook' ? { defaultReservedConcurrency: WEBHOOK_RESERVED_CONCURRENCY } : {}),
      });
      this.functions.set(spec.name, fn);
      if (spec.access.table === 'read') tableReaders.push(fn.role);
      if (spec.access.table === 'write') tableWriters.push(fn.role);
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
          webhookFunctions.set(trigger.provider, fn.fn);
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
            eventPattern: { source: [EVENT_SOURCE], detailType: [...trigger.detailTypes] },
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
      if (!(spec?.access.providerCredentials || spec?.access.webhookUrls) || spec.trigger.kind === 'webhook') continue;
      for (const [provider, url] of webhookUrls) fn.fn.addEnvironment(`WEBHOOK_URL_${provider.toUpperCase()}`, url);
      for (const setting of providerContext) if (setting.target === 'subscribers') fn.fn.addEnvironment(setting.env, setting.value);
    }
    // Settings a provider's own webhook reads (Gmail's push audience).
    for (const setting of providerContext.filter((candidate) => candidate.target === 'webhook')) {
      const webhook = specs.find((spec) => spec.trigger.kind === 'webhook' && spec.trigger.provider === setting.providerId);
      if (webhook) this.functions.get(webhook.name)?.fn.addEnvironment(setting.env, setting.value);
    }

    // The operator's role (context `operatorRoleArn`), for the commands that work on the table itself
    // (`npm run notion-webhook -- --aws`): without it only the functions may use the table's key. Its IAM
    // policy, the customer's own, narrows it to the items those commands touch (README).
    const operatorRoleArn = this.node.tryGetContext('operatorRoleArn') as string | undefined;
    if (operatorRoleArn) tableWriters.push(Role.fromRoleArn(this, 'OperatorRole', operatorRoleArn, { mutable: false }));
    tableKey.allowTableAccess({ readers: tableReaders, writers: tableWriters });

    // --- alarms -----------------------------------------------------------
    const alarmEmail = this.node.tryGetContext('alarmEmail') as string | undefined;
    this.alarms = new Alarms(this, 'Alarms', {
      deadLetterQueue: this.deadLetterQueue,
      webhooks: webhookFunctions,
      ...(alarmEmail ? { email: alarmEmail } : {}),
    });
    this.alarmTopic = this.alarms.topic;
    this.alarmTopicKey = this.alarms.topicKey;

    // --- outputs ----------------------------------------------------------
    new CfnOutput(this, 'ApiUrl', { value: this.stage.url, description: 'HTTP API base URL' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'TokenKeyArn', { value: this.tokenKey.keyArn });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.alarmTopic.topicArn,
      description: 'SNS topic every alarm notifies (subscribe on-call to it)',
    });
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
