import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AccountRootPrincipal, type IRole, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export const TABLE_KEY_ALIAS = 'alias/hr-integrations-table';

/**
 * Key management only: no Encrypt/Decrypt/GenerateDataKey/ReEncrypt and no
 * `kms:Create*` (which would include CreateGrant, i.e. handing out use of the
 * key). The account must hold these: KMS refuses a key policy that would lock
 * out the principal creating it, and CDK's keys assume the account can manage
 * them. Whoever the account's IAM lets administer keys can therefore change this
 * policy; that is the trust boundary of any key, and CloudTrail records it.
 */
export const TABLE_KEY_ADMIN_ACTIONS = [
  'kms:Describe*',
  'kms:Get*',
  'kms:List*',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:Enable*',
  'kms:Disable*',
  'kms:Put*',
  'kms:Update*',
  'kms:RotateKeyOnDemand',
  'kms:Revoke*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

/**
 * What a principal reading the table needs of its key, as CDK's own
 * `grantReadData` gives it: DynamoDB decrypts the table key with the caller's
 * credentials (CloudTrail shows the caller's role on that Decrypt), caching it
 * for five minutes per caller.
 */
export const TABLE_KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;
/** Added for writers, as CDK's `grantReadWriteData` does. */
export const TABLE_KEY_WRITE_ACTIONS = ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] as const;

/**
 * The customer-managed key of the single table (employee data, sealed tokens).
 *
 * Its policy names who may use it instead of deferring to IAM: the roles of the
 * functions that access the table (named by {@link allowTableAccess}), and
 * only when DynamoDB calls KMS on their behalf (`kms:ViaService`), so no role
 * can decrypt anything with it directly. The account root administers it, and
 * may let DynamoDB create the table's grants (`kms:GrantIsForAWSResource`),
 * which is what deploying (CloudFormation selecting the key on the table) and
 * a point-in-time restore need. Nobody outside the named roles can read the
 * data through it, administrators included, without first changing this policy.
 *
 * Naming the roles here means their table permissions cannot sit in the
 * roles' own inline policies (role → table → key → role would be a cycle):
 * `ManifestFunction` puts them in a separate policy attached to the role, and
 * {@link allowTableAccess} is called once every function exists.
 */
export class TableKey extends Construct {
  readonly key: Key;
  private readonly viaDynamoDb: string;
  private accessAllowed = false;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.viaDynamoDb = `dynamodb.${Stack.of(this).region}.amazonaws.com`;

    const policy = new PolicyDocument({
      statements: [
        new PolicyStatement({
          sid: 'AccountAdministersTheKey',
          principals: [new AccountRootPrincipal()],
          actions: [...TABLE_KEY_ADMIN_ACTIONS],
          resources: ['*'],
        }),
        new PolicyStatement({
          // DynamoDB creates its own grants on the key when a table is created with it or switched
          // to it, on behalf of whoever does so (CloudFormation at deploy, an operator restoring a
          // backup); it uses them for background work (backups, PITR) and to generate the table key.
          sid: 'DynamoDBMayCreateTableGrants',
          principals: [new AccountRootPrincipal()],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:ViaService': this.viaDynamoDb },
            Bool: { 'kms:GrantIsForAWSResource': 'true' },
          },
        }),
        new PolicyStatement({
          // DynamoDB reads the key's metadata itself to report the table's encryption state
          // (an inaccessible key, for one); the statement AWS documents for customer-managed table keys.
          sid: 'DynamoDBReadsKeyMetadata',
          principals: [new ServicePrincipal('dynamodb.amazonaws.com')],
          actions: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
          resources: ['*'],
        }),
      ],
    });

    this.key = new Key(this, 'Key', {
      description: 'Encrypts the integrations table (employee data, sealed tokens) at rest',
      alias: TABLE_KEY_ALIAS,
      enableKeyRotation: true,
      policy,
      // The table is retained; a deleted key would leave it, and its backups, unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Names the roles that may use the key, only through DynamoDB in this account and
   * region. Called once, with every role, so the policy has one statement per level.
   */
  allowTableAccess(roles: { readers: readonly IRole[]; writers: readonly IRole[] }): void {
    if (this.accessAllowed) throw new Error('TableKey.allowTableAccess must be called once, with every role');
    this.accessAllowed = true;
    const conditions = {
      StringEquals: { 'kms:ViaService': this.viaDynamoDb, 'kms:CallerAccount': Stack.of(this).account },
    };
    // Writers read too: the table key is decrypted for every access.
    const readers = [...new Set([...roles.readers, ...roles.writers])];
    if (readers.length > 0) {
      this.key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'TableReadersViaDynamoDB',
          principals: readers.map((role) => role.grantPrincipal),
          actions: [...TABLE_KEY_READ_ACTIONS],
          resources: ['*'],
          conditions,
        }),
      );
    }
    if (roles.writers.length > 0) {
      this.key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'TableWritersViaDynamoDB',
          principals: roles.writers.map((role) => role.grantPrincipal),
          actions: [...TABLE_KEY_WRITE_ACTIONS],
          resources: ['*'],
          conditions,
        }),
      );
    }
  }
}
