import path from 'node:path';
import { CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, Policy, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Access, FunctionSpec } from '../manifest';
import { METRICS_NAMESPACE } from '../../shared/metric-names';
import { lambdaBundling } from './bundling';

/** Must match `PURPOSE` in shared/crypto/kms-branch-keys.ts: every KMS call carries it in its encryption context. */
export const TOKEN_KEY_PURPOSE = 'hr-integrations-token-branch-key';

export const SERVICE_NAME = 'hr-integrations';

/** Table actions per access level. No Scan, ever: every read is a key or index query. */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'] as const;
export const TABLE_WRITE_ACTIONS = [
  ...TABLE_READ_ACTIONS,
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export function tableActions(access: Access): readonly string[] {
  switch (access.table) {
    case 'none':
      return [];
    case 'read':
      return TABLE_READ_ACTIONS;
    case 'write':
      return TABLE_WRITE_ACTIONS;
  }
}

export function tokenKeyActions(access: Access): readonly string[] {
  switch (access.tokenKey) {
    case 'none':
      return [];
    case 'decrypt':
      return ['kms:Decrypt'];
    case 'encrypt':
      return ['kms:Decrypt', 'kms:GenerateDataKey'];
  }
}

/**
 * API functions that page through the table sign their pagination cursors with
 * the cursor key (HMAC), so a client cannot forge one pointing elsewhere.
 */
export function usesCursorKey(spec: FunctionSpec): boolean {
  return spec.trigger.kind === 'http' && spec.access.table !== 'none';
}

/** Throws on a spec the stack cannot grant correctly. */
export function validateAccess(spec: FunctionSpec): void {
  if (spec.access.tokenKey !== 'none' && spec.access.table === 'none') {
    throw new Error(
      `Manifest entry "${spec.name}": tokenKey "${spec.access.tokenKey}" needs table access (branch keys live in the table)`,
    );
  }
}

/** `list-providers` → `ListProviders`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

export interface ManifestFunctionProps {
  spec: FunctionSpec;
  repoRoot: string;
  table: ITableV2;
  tokenKey: IKey;
  bus: IEventBus;
  appBaseUrl: string;
  /** The API's public origin (OAuth redirect URIs). */
  apiBaseUrl: string;
  /** The providers' client credentials (JSON), read by functions with `access.providerCredentials`. */
  providerCredentials: ISecret;
  /** Lambda's own DLQ for asynchronous invocations (schedules, event rules) that fail after Lambda's retries. */
  asyncDeadLetterQueue?: IQueue;
  /** The pagination cursor signing key, read by the functions {@link usesCursorKey} selects. */
  cursorKey: ISecret;
  /** Reserved concurrency when the spec sets none (the stack caps webhooks this way). */
  defaultReservedConcurrency?: number;
}

/**
 * One manifest entry as a Lambda: its own log group, and its own role whose
 * only policy is derived from `spec.access` (plus writing to that log group).
 */
export class ManifestFunction extends Construct {
  readonly fn: NodejsFunction;
  /** How its code is bundled: the same for every entry (./bundling.ts). */
  readonly bundling: BundlingOptions;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** The table grant, a policy of its own (see below); undefined without table access. */
  readonly tableAccess?: Policy;

  constructor(scope: Construct, id: string, props: ManifestFunctionProps) {
    super(scope, id);
    const { spec, table, tokenKey, bus } = props;
    validateAccess(spec);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const statements: PolicyStatement[] = [
      new PolicyStatement({
        sid: 'WriteOwnLogs',
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's `Arn` attribute ends in `:*`, i.e. its streams.
        resources: [this.logGroup.logGroupArn],
      }),
    ];

    const environment: Record<string, string> = {
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };

    const dynamoActions = tableActions(spec.access);
    if (dynamoActions.length > 0) environment.TABLE_NAME = table.tableName;

    const kmsActions = tokenKeyActions(spec.access);
    if (kmsActions.length > 0) {
      environment.TOKEN_KMS_KEY_ARN = tokenKey.keyArn;
      statements.push(
        new PolicyStatement({
          sid: 'TokenKey',
          actions: [...kmsActions],
          resources: [tokenKey.keyArn],
          conditions: { StringEquals: { 'kms:EncryptionContext:purpose': TOKEN_KEY_PURPOSE } },
        }),
      );
    }

    if (spec.access.publishEvents) {
      environment.EVENT_BUS_NAME = bus.eventBusName;
      statements.push(
        new PolicyStatement({ sid: 'PublishEvents', actions: ['events:PutEvents'], resources: [bus.eventBusArn] }),
      );
    }

    // A secret is handed over by ARN and read at cold start; the role may read that one secret only.
    const readSecret = (sid: string, variable: string, secret: ISecret): void => {
      environment[variable] = secret.secretArn;
      statements.push(new PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
    };
    if (spec.access.providerCredentials) {
      readSecret('ProviderCredentials', 'PROVIDER_CREDENTIALS_SECRET_ARN', props.providerCredentials);
    }
    if (usesCursorKey(spec)) readSecret('CursorKey', 'CURSOR_KEY_SECRET_ARN', props.cursorKey);

    if (spec.trigger.kind === 'http') {
      environment.APP_BASE_URL = props.appBaseUrl;
      environment.API_BASE_URL = props.apiBaseUrl;
    }

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${spec.name}`,
      inlinePolicies: { access: new PolicyDocument({ statements }) },
    });

    // The table grant is its own policy attached to the role, not part of the role: the table's key
    // policy names this role, so a role that referenced the table would close the cycle
    // role → table → table key → role.
    if (dynamoActions.length > 0) {
      this.tableAccess = new Policy(this, 'TableAccess', {
        roles: [this.role],
        statements: [
          new PolicyStatement({
            sid: 'Table',
            actions: [...dynamoActions],
            resources: [table.tableArn, `${table.tableArn}/index/*`],
          }),
        ],
      });
    }
    const reservedConcurrency = spec.reservedConcurrency ?? props.defaultReservedConcurrency;
    // Chosen by measurement (see ./bundling.ts); the spec's access decides whether the Secrets Manager client is inside.
    this.bundling = lambdaBundling(props.repoRoot, spec);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: path.join(props.repoRoot, spec.entry),
      handler: 'handler',
      projectRoot: props.repoRoot,
      depsLockFilePath: path.join(props.repoRoot, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      ...(reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: reservedConcurrency }),
      description: spec.description,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment,
      ...(props.asyncDeadLetterQueue ? { deadLetterQueue: props.asyncDeadLetterQueue, retryAttempts: 2 } : {}),
      bundling: this.bundling,
    });

    // Lambda only depends on its role; without this it could be invoked before it may touch the table.
    if (this.tableAccess) this.fn.node.addDependency(this.tableAccess);

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is deliberate: it matches the toolchain the code is built and tested with (package.json engines, node devDependency); 24 would be untested.',
    });
    const tableResource = table.node.defaultChild;
    if (this.tableAccess && tableResource instanceof CfnElement) {
      const tableLogicalId = Stack.of(this).getLogicalId(tableResource);
      Validations.of(this.tableAccess).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
        reason: 'The `index/*` wildcard covers only the GSIs of this one table, which the store queries (routing, due).',
      });
    }
  }
}
