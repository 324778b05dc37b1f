import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { CfnElement } from 'aws-cdk-lib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../infra/app';
import { manifest, type FunctionSpec } from '../../infra/manifest';
import { METRIC_NAMES, METRICS_NAMESPACE } from '../../shared/metric-names';
import {
  API_THROTTLE,
  REPO_ROOT,
  SYNC_FAILURE_ALARM,
  WEBHOOK_5XX_ALARM,
  WEBHOOK_RESERVED_CONCURRENCY,
  type IntegrationsStack,
} from '../../infra/stack';
import { TABLE } from '../../shared/store/table';

const cdkContext = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;
// A customer-managed key on TableV2 needs a region-specific stack (aws-notes §1.4); tests pin one.
const REGION = 'eu-west-1';
const OPERATOR_ROLE_ARN = 'arn:aws:iam::123456789012:role/hr-integrations-operator';
const context = { ...cdkContext, region: REGION, operatorRoleArn: OPERATOR_ROLE_ARN, 'aws:cdk:bundling-stacks': [] };
const { jwtIssuer, jwtAudience, appBaseUrl } = cdkContext as Record<'jwtIssuer' | 'jwtAudience' | 'appBaseUrl', string>;

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Effect: string;
  Principal?: { AWS?: unknown; Service?: unknown } | string;
  Sid?: string;
};

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const logicalId = (stack: IntegrationsStack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** Every statement of every policy attached to a role, inline or not. */
function roleStatements(template: Template, roleId: string): Statement[] {
  const role = template.toJSON().Resources[roleId] as Resource;
  const inline = ((role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  const attached = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Resource>)
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached];
}

const TABLE_READ = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
const TABLE_WRITE = [
  ...TABLE_READ,
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
].sort();
const expectedTableActions = (spec: FunctionSpec) =>
  spec.access.table === 'write' ? TABLE_WRITE : spec.access.table === 'read' ? TABLE_READ : [];
const expectedKmsActions = (spec: FunctionSpec) =>
  spec.access.tokenKey === 'encrypt' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : spec.access.tokenKey === 'decrypt' ? ['kms:Decrypt'] : [];
const isAsync = (spec: FunctionSpec) => spec.trigger.kind === 'schedule' || spec.trigger.kind === 'event';
/** API functions that page through the table sign their cursors with the cursor key. */
const usesCursorKey = (spec: FunctionSpec) => spec.trigger.kind === 'http' && spec.access.table !== 'none';
const ACCOUNT_ROOT = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] };
/** KMS actions that encrypt or decrypt data (as opposed to managing the key). */
const CRYPTO_ACTION = /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|Sign|Verify|GenerateMac|VerifyMac|DeriveSharedSecret|\*)/;
const keyStatements = (template: Template, keyId: string) =>
  ((template.toJSON().Resources[keyId] as Resource).Properties.KeyPolicy as { Statement: Statement[] }).Statement;
const awsPrincipals = (statement: Statement): unknown[] =>
  typeof statement.Principal === 'object' && statement.Principal.AWS !== undefined ? asArray(statement.Principal.AWS) : [];
const sortJson = (values: unknown[]) => values.map((value) => JSON.stringify(value)).sort();

describe('IntegrationsStack (real manifest, cdk-nag AwsSolutions on)', () => {
  let stack: IntegrationsStack;
  let template: Template;
  let ids: {
    table: string;
    key: string;
    tableKey: string;
    bus: string;
    dlq: string;
    authorizer: string;
    topic: string;
    topicKey: string;
    cursorKey: string;
  };

  beforeAll(() => {
    ({ stack } = buildApp({ context }));
    // Synthesizing runs the cdk-nag plugin, and an unacknowledged finding throws here.
    template = Template.fromStack(stack);
    ids = {
      table: logicalId(stack, stack.table),
      key: logicalId(stack, stack.tokenKey),
      bus: logicalId(stack, stack.bus),
      dlq: logicalId(stack, stack.deadLetterQueue),
      authorizer: Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'))[0]!,
      tableKey: logicalId(stack, stack.tableKey),
      topic: logicalId(stack, stack.alarmTopic),
      topicKey: logicalId(stack, stack.alarmTopicKey),
      cursorKey: logicalId(stack, stack.cursorKey),
    };
  });

  const fnId = (name: string) => logicalId(stack, stack.functions.get(name)!.fn);
  const roleArnOf = (name: string) => ({ 'Fn::GetAtt': [logicalId(stack, stack.functions.get(name)!.role), 'Arn'] });

  it('creates one arm64 Node 22 function per manifest entry, sized from the spec', () => {
    template.resourceCountIs('AWS::Lambda::Function', manifest.length);
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    for (const fn of Object.values(functions)) {
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
    }
    for (const spec of manifest) {
      const fn = functions[fnId(spec.name)]!;
      expect(fn.Properties).toMatchObject({
        Handler: 'index.handler',
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        Description: spec.description,
      });
    }
  });

  it('gives each function exactly the environment its access needs', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    for (const spec of manifest) {
      const env = (functions[fnId(spec.name)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env, spec.name).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'hr-integrations',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      expect(env.TABLE_NAME, spec.name).toEqual(spec.access.table === 'none' ? undefined : { Ref: ids.table });
      expect(env.TOKEN_KMS_KEY_ARN, spec.name).toEqual(
        spec.access.tokenKey === 'none' ? undefined : { 'Fn::GetAtt': [ids.key, 'Arn'] },
      );
      expect(env.EVENT_BUS_NAME, spec.name).toEqual(spec.access.publishEvents ? { Ref: ids.bus } : undefined);
      expect(env.APP_BASE_URL, spec.name).toEqual(spec.trigger.kind === 'http' ? appBaseUrl : undefined);
      expect(env.CURSOR_KEY_SECRET_ARN, spec.name).toEqual(usesCursorKey(spec) ? { Ref: ids.cursorKey } : undefined);
      // Powertools Metrics reads its namespace from here, so emitters and alarms cannot disagree on it.
      expect(env.POWERTOOLS_METRICS_NAMESPACE, spec.name).toBe(METRICS_NAMESPACE);
    }
  });

  it('defines the single table from shared/store/table.ts, retained and protected', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const gsi = (index: { name: string; partitionKey: string; sortKey: string }) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith(
        ['pk', 'sk', 'routeKey', 'routeSk', 'dueShard', 'dueAt'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      ),
      GlobalSecondaryIndexes: [
        Match.objectLike(gsi(TABLE.indexes.routing)),
        Match.objectLike(gsi(TABLE.indexes.due)),
      ],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      Replicas: [
        Match.objectLike({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ],
    });
  });

  it('encrypts the table with its own customer-managed key, rotated and retained', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({ Region: REGION, SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [ids.tableKey, 'Arn'] } } }),
      ],
    });
    expect(ids.tableKey).not.toBe(ids.key);
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    const tableKey = template.toJSON().Resources[ids.tableKey] as Resource;
    expect(tableKey.DeletionPolicy).toBe('Retain');
    expect(tableKey.Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/hr-integrations-table',
      TargetKeyId: { 'Fn::GetAtt': [ids.tableKey, 'Arn'] },
    });
  });

  it('lets only the table functions\' roles use the table key, and only through DynamoDB', () => {
    const statements = keyStatements(template, ids.tableKey);
    const viaDynamoDb = { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com`, 'kms:CallerAccount': { Ref: 'AWS::AccountId' } };
    const tableSpecs = manifest.filter((spec) => spec.access.table !== 'none');
    const writerSpecs = manifest.filter((spec) => spec.access.table === 'write');
    expect(tableSpecs.length).toBeGreaterThan(writerSpecs.length);

    for (const statement of statements) {
      expect(statement.Effect, statement.Sid).toBe('Allow');
      // Never everyone: no `*` principal, with or without conditions.
      expect(JSON.stringify(statement.Principal), statement.Sid).not.toContain('"*"');
      const crypto = asArray(statement.Action).filter((action) => CRYPTO_ACTION.test(action));
      if (crypto.length > 0) {
        // Data-key use is only ever for function roles, and only when DynamoDB asks on their behalf.
        expect(statement.Condition, statement.Sid).toEqual({ StringEquals: viaDynamoDb });
        expect(awsPrincipals(statement), statement.Sid).not.toContainEqual(ACCOUNT_ROOT);
        expect(statement.Principal, statement.Sid).not.toHaveProperty('Service');
      }
    }
    const principalsWith = (action: string) =>
      sortJson(statements.filter((statement) => asArray(statement.Action).includes(action)).flatMap(awsPrincipals));
    // Readers and writers decrypt the table key; only writers get the write-side actions (as CDK's table grants do).
    // So does the operator's role from context `operatorRoleArn`, as a writer (the notion-webhook command pins).
    expect(principalsWith('kms:Decrypt')).toEqual(sortJson([...tableSpecs.map((spec) => roleArnOf(spec.name)), OPERATOR_ROLE_ARN]));
    for (const action of ['kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      expect(principalsWith(action), action).toEqual(sortJson([...writerSpecs.map((spec) => roleArnOf(spec.name)), OPERATOR_ROLE_ARN]));
    }
    // No function without table access appears anywhere in the key policy.
    const everyAwsPrincipal = sortJson(statements.flatMap(awsPrincipals));
    for (const spec of manifest.filter((candidate) => candidate.access.table === 'none')) {
      expect(everyAwsPrincipal, spec.name).not.toContain(JSON.stringify(roleArnOf(spec.name)));
    }

    // The account root administers the key (CDK and KMS's lockout check need it) but cannot use it for data.
    const rootStatements = statements.filter((statement) => awsPrincipals(statement).some((p) => JSON.stringify(p) === JSON.stringify(ACCOUNT_ROOT)));
    expect(rootStatements.length).toBeGreaterThan(0);
    const rootActions = rootStatements.flatMap((statement) => asArray(statement.Action));
    expect(rootActions).toEqual(expect.arrayContaining(['kms:Put*', 'kms:Describe*', 'kms:ScheduleKeyDeletion', 'kms:CreateGrant']));
    expect(rootActions.filter((action) => CRYPTO_ACTION.test(action) || action === 'kms:Create*')).toEqual([]);
    // Grants only for DynamoDB attaching the key to a table (deploys, point-in-time restores), never for a person.
    const createGrant = rootStatements.find((statement) => asArray(statement.Action).includes('kms:CreateGrant'))!;
    expect(asArray(createGrant.Action)).toEqual(['kms:CreateGrant']);
    expect(createGrant.Condition).toEqual({
      StringEquals: { 'kms:ViaService': `dynamodb.${REGION}.amazonaws.com` },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
    // DynamoDB itself may read the key's metadata (to report the key's state), nothing more.
    const service = statements.filter((statement) => typeof statement.Principal === 'object' && statement.Principal.Service);
    expect(service.map((statement) => statement.Principal)).toEqual([{ Service: 'dynamodb.amazonaws.com' }]);
    expect(asArray(service[0]!.Action).sort()).toEqual(['kms:Describe*', 'kms:Get*', 'kms:List*']);
  });

  it('has a rotating, retained token key with an alias', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/hr-integrations-tokens',
      TargetKeyId: { 'Fn::GetAtt': [ids.key, 'Arn'] },
    });
  });

  it('has the custom bus and an encrypted, TLS-only DLQ keeping messages 14 days', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'hr-integrations' });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('schedules each schedule trigger with its rate, input, retries and the DLQ', () => {
    const schedules = manifest.filter((spec) => spec.trigger.kind === 'schedule');
    expect(schedules.map((spec) => spec.trigger)).toEqual([
      { kind: 'schedule', expression: 'rate(15 minutes)' },
      { kind: 'schedule', expression: 'rate(1 hour)' },
      { kind: 'schedule', expression: 'rate(15 minutes)' },
      { kind: 'schedule', expression: 'rate(5 minutes)' },
      { kind: 'schedule', expression: 'rate(1 minute)' },
    ]);
    template.resourceCountIs('AWS::Scheduler::Schedule', schedules.length);
    for (const spec of schedules) {
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        ScheduleExpression: (spec.trigger as { expression: string }).expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId(spec.name), 'Arn'] },
          Input: JSON.stringify({ source: 'schedule', job: spec.name }),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        }),
      });
    }
  });

  it('routes SyncRequested on the bus to the sync worker, with retries and the DLQ', () => {
    const events = manifest.filter((spec) => spec.trigger.kind === 'event');
    template.resourceCountIs('AWS::Events::Rule', events.length);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: ids.bus },
      EventPattern: { source: ['hr.integrations'], 'detail-type': ['SyncRequested'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('sync-worker'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
  });

  it('routes the five public events to the outgoing webhook delivery function with one rule, with retries and the DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: ids.bus },
      EventPattern: {
        source: ['hr.integrations'],
        'detail-type': ['integration.connected', 'integration.disconnected', 'integration.health_changed', 'integration.alert', 'integration.synced'],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('deliver-event-webhooks'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
        }),
      ],
    });
  });

  it('sends failed async invocations of schedule and event functions to the DLQ', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    for (const spec of manifest) {
      const dlq = functions[fnId(spec.name)]!.Properties.DeadLetterConfig;
      expect(dlq, spec.name).toEqual(isAsync(spec) ? { TargetArn: { 'Fn::GetAtt': [ids.dlq, 'Arn'] } } : undefined);
    }
  });

  it('puts every jwt route behind the JWT authorizer from context, with CORS for the app only', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: jwtIssuer, Audience: [jwtAudience] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: [appBaseUrl] }),
    });
    // Exactly the methods the API's routes use, plus the preflight itself: no PUT, no `*`.
    const api = Object.values(template.findResources('AWS::ApiGatewayV2::Api') as Record<string, Resource>)[0]!;
    const cors = api.Properties.CorsConfiguration as { AllowMethods: string[] };
    expect([...cors.AllowMethods].sort()).toEqual(['DELETE', 'GET', 'OPTIONS', 'PATCH', 'POST']);
    expect(cors.AllowMethods).toHaveLength(new Set(cors.AllowMethods).size);
    const https = manifest.filter((spec) => spec.trigger.kind === 'http');
    template.resourceCountIs('AWS::ApiGatewayV2::Route', https.length);
    for (const spec of https) {
      const trigger = spec.trigger as Extract<FunctionSpec['trigger'], { kind: 'http' }>;
      template.hasResourceProperties(
        'AWS::ApiGatewayV2::Route',
        trigger.auth === 'jwt'
          ? { RouteKey: `${trigger.method} ${trigger.path}`, AuthorizationType: 'JWT', AuthorizerId: { Ref: ids.authorizer } }
          : { RouteKey: `${trigger.method} ${trigger.path}`, AuthorizationType: 'NONE' },
      );
    }
  });

  it('logs and throttles the $default stage', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: { ThrottlingBurstLimit: API_THROTTLE.burstLimit, ThrottlingRateLimit: API_THROTTLE.rateLimit },
    });
    expect(API_THROTTLE).toEqual({ rateLimit: 100, burstLimit: 200 });
  });

  it('reserves concurrency for every webhook, capping a flood without starving the API and workers', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    const webhooks = manifest.filter((spec) => spec.trigger.kind === 'webhook');
    expect(webhooks.length).toBeGreaterThan(0);
    expect(Number.isInteger(WEBHOOK_RESERVED_CONCURRENCY) && WEBHOOK_RESERVED_CONCURRENCY > 0).toBe(true);
    for (const spec of webhooks) {
      expect(functions[fnId(spec.name)]!.Properties.ReservedConcurrentExecutions, spec.name).toBe(WEBHOOK_RESERVED_CONCURRENCY);
    }
    // Lambda keeps at least 100 of the default 1,000 unreserved: everything reserved must fit in the rest.
    const reserved = Object.values(functions).reduce(
      (sum, fn) => sum + ((fn.Properties.ReservedConcurrentExecutions as number | undefined) ?? 0),
      0,
    );
    expect(reserved).toBeLessThanOrEqual(900);
  });

  it('names the EMF metrics the alarms are built on', () => {
    expect(METRICS_NAMESPACE).toBe('HrIntegrations');
    expect(Object.values(METRIC_NAMES).sort()).toEqual(
      [
        'SyncSucceeded',
        'SyncFailed',
        'SyncRecords',
        'WebhookAccepted',
        'WebhookDuplicate',
        'WebhookRejected',
        'WebhookDropped',
        'TokenRefreshed',
        'TokenRefreshFailed',
        'DeadLetter',
      ].sort(),
    );
  });

  it('alarms on dead letters, the sync failure rate and webhook 5xx, all to one encrypted, TLS-only topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
    const webhooks = manifest.filter((spec) => spec.trigger.kind === 'webhook');
    expect(Object.keys(alarms)).toHaveLength(2 + webhooks.length);
    for (const alarm of Object.values(alarms)) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: ids.topic }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: ids.topic }]);
      expect(alarm.Properties.AlarmName).toEqual(expect.stringMatching(/^HrIntegrations-/));
    }

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
    });

    // SyncFailed / (SyncSucceeded + SyncFailed) over 15 minutes, only above a minimum volume.
    const rate = Object.values(alarms).find((alarm) => Array.isArray(alarm.Properties.Metrics))!;
    expect(rate.Properties).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: SYNC_FAILURE_ALARM.thresholdPercent,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(SYNC_FAILURE_ALARM.thresholdPercent).toBe(20);
    expect(SYNC_FAILURE_ALARM.minimumSyncs).toBeGreaterThan(1);
    type Query = { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: Record<string, unknown>; Period: number; Stat: string } };
    const queries = rate.Properties.Metrics as Query[];
    const stats = queries.filter((query) => query.MetricStat);
    expect(stats.map((query) => query.MetricStat!.Metric).sort((a, b) => String(a.MetricName).localeCompare(String(b.MetricName)))).toEqual([
      { Namespace: 'HrIntegrations', MetricName: 'SyncFailed', Dimensions: [{ Name: 'service', Value: 'hr-integrations' }] },
      { Namespace: 'HrIntegrations', MetricName: 'SyncSucceeded', Dimensions: [{ Name: 'service', Value: 'hr-integrations' }] },
    ]);
    for (const query of stats) expect(query.MetricStat).toMatchObject({ Period: 900, Stat: 'Sum' });
    const expression = queries.find((query) => query.Expression)!;
    expect(expression.ReturnData ?? true).toBe(true);
    const failed = stats.find((query) => query.MetricStat!.Metric.MetricName === 'SyncFailed')!.Id;
    const succeeded = stats.find((query) => query.MetricStat!.Metric.MetricName === 'SyncSucceeded')!.Id;
    expect(expression.Expression).toContain(failed);
    expect(expression.Expression).toContain(succeeded);
    expect(expression.Expression).toContain(String(SYNC_FAILURE_ALARM.minimumSyncs));

    for (const spec of webhooks) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Url5xxCount',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(spec.name) } }],
        Statistic: 'Sum',
        Period: 300,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: WEBHOOK_5XX_ALARM.threshold,
        TreatMissingData: 'notBreaching',
      });
    }

    // The topic: KMS-encrypted with a rotating key CloudWatch may use, TLS only, publishable by this account's alarms.
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [ids.topicKey, 'Arn'] } });
    expect((template.toJSON().Resources[ids.topicKey] as Resource).Properties.EnableKeyRotation).toBe(true);
    const topicKeyPolicy = keyStatements(template, ids.topicKey);
    expect(topicKeyPolicy).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: ids.topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('generates the cursor signing key as a secret and lets only the paging API functions read it', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    // Not rotated on a schedule (see the acknowledgement in the stack).
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(manifest.filter(usesCursorKey).length).toBeGreaterThan(0);
  });

  it('grants each function exactly what its access says, and nothing else', () => {
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, Resource>;
    for (const spec of manifest) {
      const roleId = (functions[fnId(spec.name)]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const statements = roleStatements(template, roleId);
      const actionsOf = (prefix: string) =>
        statements.flatMap((statement) => asArray(statement.Action)).filter((action) => action.startsWith(prefix)).sort();

      expect(actionsOf('dynamodb:'), spec.name).toEqual(expectedTableActions(spec));
      expect(actionsOf('kms:'), spec.name).toEqual(expectedKmsActions(spec));
      expect(actionsOf('events:'), spec.name).toEqual(spec.access.publishEvents ? ['events:PutEvents'] : []);
      expect(actionsOf('logs:'), spec.name).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(actionsOf('sqs:'), spec.name).toEqual(isAsync(spec) ? ['sqs:SendMessage'] : []);
      const secretActions = [...new Set(actionsOf('secretsmanager:'))];
      expect(secretActions, spec.name).toEqual(spec.access.providerCredentials || usesCursorKey(spec) ? ['secretsmanager:GetSecretValue'] : []);
      // Exactly the secrets its access names: the provider credentials, the cursor key, or both.
      const readableSecrets = statements
        .filter((statement) => asArray(statement.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((statement) => asArray(statement.Resource));
      expect(sortJson(readableSecrets), spec.name).toEqual(
        sortJson([
          ...(spec.access.providerCredentials ? [{ Ref: logicalId(stack, stack.providerCredentials) }] : []),
          ...(usesCursorKey(spec) ? [{ Ref: ids.cursorKey }] : []),
        ]),
      );
      // Nothing outside those six services.
      const all = statements.flatMap((statement) => asArray(statement.Action));
      expect(all.filter((action) => !/^(dynamodb|kms|events|logs|sqs|secretsmanager):/.test(action)), spec.name).toEqual([]);

      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        const actions = asArray(statement.Action);
        if (actions.some((action) => action.startsWith('dynamodb:'))) {
          expect(statement.Resource).toEqual([
            { 'Fn::GetAtt': [ids.table, 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/index/*']] },
          ]);
        }
        if (actions.some((action) => action.startsWith('kms:'))) {
          expect(statement.Resource).toEqual({ 'Fn::GetAtt': [ids.key, 'Arn'] });
          expect(statement.Condition).toEqual({
            StringEquals: { 'kms:EncryptionContext:purpose': 'hr-integrations-token-branch-key' },
          });
        }
        if (actions.includes('events:PutEvents')) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [ids.bus, 'Arn'] });
        if (actions.includes('sqs:SendMessage')) expect(statement.Resource).toEqual({ 'Fn::GetAtt': [ids.dlq, 'Arn'] });
        if (actions.some((action) => action.startsWith('logs:'))) {
          // Its own log group only (the `Arn` attribute ends in `:*`, covering that group's streams).
          const ownLogs = logicalId(stack, stack.functions.get(spec.name)!.logGroup);
          expect(statement.Resource).toEqual({ 'Fn::GetAtt': [ownLogs, 'Arn'] });
        }
      }
    }
  });

  it('uses no managed policies, and no identity policy allows Scan or a wildcard action', () => {
    const roles = template.findResources('AWS::IAM::Role') as Record<string, Resource>;
    const allowed: string[] = [];
    for (const roleId of Object.keys(roles)) {
      expect(roles[roleId]!.Properties.ManagedPolicyArns, roleId).toBeUndefined();
      for (const statement of roleStatements(template, roleId)) {
        if (statement.Effect === 'Allow') allowed.push(...asArray(statement.Action));
      }
    }
    expect(allowed.length).toBeGreaterThan(0);
    expect(allowed.filter((action) => action.includes('*'))).toEqual([]);
    expect(allowed).not.toContain('dynamodb:Scan');
    // Not in any resource or key policy either.
    expect(JSON.stringify(template.toJSON()).includes('dynamodb:Scan')).toBe(false);
  });

  it('outputs the API URL, table name, bus name, key ARN and alarm topic ARN', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiUrl',
      'EventBusName',
      'TableName',
      'TokenKeyArn',
      'WebhookUrlAsana',
      'WebhookUrlGoogle',
      'WebhookUrlMicrosoft',
      'WebhookUrlNotion',
      'WebhookUrlSlack',
    ]);
    expect(outputs.AlarmTopicArn!.Value).toEqual({ Ref: ids.topic });
    expect(outputs.TableName!.Value).toEqual({ Ref: ids.table });
    expect(outputs.EventBusName!.Value).toEqual({ Ref: ids.bus });
    expect(outputs.TokenKeyArn!.Value).toEqual({ 'Fn::GetAtt': [ids.key, 'Arn'] });
  });
});

describe('IntegrationsStack with an extra manifest', () => {
  const base: Omit<FunctionSpec, 'name' | 'trigger'> = {
    entry: 'functions/api/list-providers.ts',
    description: 'test entry',
    access: { table: 'write', tokenKey: 'none', publishEvents: true },
    timeoutSeconds: 10,
    memoryMb: 256,
  };
  const extra: FunctionSpec[] = [
    ...manifest,
    { ...base, name: 'probe-webhook', trigger: { kind: 'webhook', provider: 'probe', path: '/api/webhooks/probe' } },
    {
      ...base,
      name: 'public-probe',
      access: { table: 'write', tokenKey: 'encrypt', publishEvents: true },
      trigger: { kind: 'http', method: 'GET', path: '/api/probe/public', auth: 'public' },
    },
    {
      ...base,
      name: 'put-probe',
      access: { table: 'none', tokenKey: 'none', publishEvents: false },
      trigger: { kind: 'http', method: 'PUT', path: '/api/probe/{id}', auth: 'jwt' },
    },
  ];

  it('gives a webhook a Function URL with auth NONE and an output, and a public route no authorizer (nag still passes)', () => {
    const { stack } = buildApp({ context, manifest: extra });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', extra.length);
    const webhookFn = logicalId(stack, stack.functions.get('probe-webhook')!.fn);
    template.resourceCountIs('AWS::Lambda::Url', extra.filter((spec) => spec.trigger.kind === 'webhook').length);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [webhookFn, 'Arn'] },
    });
    template.hasOutput('WebhookUrlProbe', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /api/probe/public',
      AuthorizationType: 'NONE',
      AuthorizerId: Match.absent(),
    });
    const env = (
      template.toJSON().Resources[webhookFn] as Resource
    ).Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.APP_BASE_URL).toBeUndefined();
    expect(env.Variables.TABLE_NAME).toBeDefined();
    // Any webhook gets the cap and its own 5xx alarm, not just the three providers of today.
    expect((template.toJSON().Resources[webhookFn] as Resource).Properties.ReservedConcurrentExecutions).toBe(
      WEBHOOK_RESERVED_CONCURRENCY,
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Url5xxCount',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: webhookFn } }],
    });
    // CORS follows the routes: a PUT route brings PUT in.
    const api = Object.values(template.findResources('AWS::ApiGatewayV2::Api') as Record<string, Resource>)[0]!;
    expect([...(api.Properties.CorsConfiguration as { AllowMethods: string[] }).AllowMethods].sort()).toEqual([
      'DELETE',
      'GET',
      'OPTIONS',
      'PATCH',
      'POST',
      'PUT',
    ]);
    // A route without table access pages nothing, so it gets no cursor key.
    const putEnv = (template.toJSON().Resources[logicalId(stack, stack.functions.get('put-probe')!.fn)] as Resource).Properties
      .Environment as { Variables: Record<string, unknown> };
    expect(putEnv.Variables.CURSOR_KEY_SECRET_ARN).toBeUndefined();
  });
});

describe('deployment region', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('takes the region from context, else from the CDK CLI, and refuses to guess', () => {
    expect(buildApp({ context, nag: false }).stack.region).toBe(REGION);
    vi.stubEnv('CDK_DEFAULT_REGION', 'us-west-2');
    const { region: _ignored, ...withoutRegion } = context;
    expect(buildApp({ context: withoutRegion, nag: false }).stack.region).toBe('us-west-2');
    vi.stubEnv('CDK_DEFAULT_REGION', undefined);
    expect(() => buildApp({ context: withoutRegion, nag: false })).toThrow(/region/);
  });
});

describe('manifest validation and cdk-nag enforcement', () => {
  const spec = (overrides: Partial<FunctionSpec>): FunctionSpec => ({
    name: 'bad',
    entry: 'functions/jobs/sync-worker.ts',
    description: 'bad',
    trigger: { kind: 'schedule', expression: 'rate(5 minutes)' },
    access: { table: 'none', tokenKey: 'none', publishEvents: false },
    timeoutSeconds: 10,
    memoryMb: 128,
    ...overrides,
  });

  it('rejects a token key grant without table access', () => {
    expect(() =>
      buildApp({ context, nag: false, manifest: [spec({ access: { table: 'none', tokenKey: 'decrypt', publishEvents: false } })] }),
    ).toThrow(/tokenKey "decrypt" needs table access/);
  });

  it.each(['cron(0 * * * ? *)', 'rate(1 minutes)', 'rate(2 hour)', 'rate(5 days)', 'rate(0 minutes)'])(
    'rejects the schedule expression %s',
    (expression) => {
      expect(() => buildApp({ context, nag: false, manifest: [spec({ trigger: { kind: 'schedule', expression } })] })).toThrow(
        /Unsupported schedule expression/,
      );
    },
  );

  it('fails synthesis on an unacknowledged cdk-nag finding', () => {
    const { stack } = buildApp({ context, manifest: [spec({})] });
    new Queue(stack, 'NoDlqNoTls');
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-SQS/);
  });
});

describe('Gmail push context', () => {
  it('hands the topic to functions that open subscriptions and the audience to the Google webhook', () => {
    const { stack } = buildApp({
      context: { ...context, gmailPubsubTopic: 'projects/acme/topics/gmail', gmailPushAudience: 'https://hooks.acme.test/google' },
      nag: false,
    });
    const template = Template.fromStack(stack);
    const environmentOf = (name: string) =>
      (template.toJSON().Resources[logicalId(stack, stack.functions.get(name)!.fn)] as Resource).Properties.Environment as { Variables: Record<string, unknown> };
    expect(environmentOf('oauth-callback').Variables.GMAIL_PUBSUB_TOPIC).toBe('projects/acme/topics/gmail');
    expect(environmentOf('google-webhook').Variables.GMAIL_PUSH_AUDIENCE).toBe('https://hooks.acme.test/google');
    expect(environmentOf('oauth-callback').Variables.WEBHOOK_URL_GOOGLE).toBeDefined();
    expect(environmentOf('list-integrations').Variables.GMAIL_PUBSUB_TOPIC).toBeUndefined();
    // The webhook status page shows the URLs providers call without being able to read provider secrets.
    expect(Object.keys(environmentOf('list-webhooks').Variables)).toEqual(expect.arrayContaining(['WEBHOOK_URL_SLACK', 'WEBHOOK_URL_GOOGLE', 'WEBHOOK_URL_MICROSOFT']));
    expect(environmentOf('list-webhooks').Variables.PROVIDER_CREDENTIALS_SECRET_ARN).toBeUndefined();
  });
});

describe('pacing', () => {
  it('caps the sync worker so a burst of SyncRequested waits instead of stampeding', () => {
    const { stack } = buildApp({ context, nag: false });
    const template = Template.fromStack(stack);
    const worker = template.toJSON().Resources[logicalId(stack, stack.functions.get('sync-worker')!.fn)] as Resource;
    expect(worker.Properties.ReservedConcurrentExecutions).toBe(150);
  });
});
