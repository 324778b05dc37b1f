import { build, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { BUNDLE_ALIASES, CREATE_REQUIRE_BANNER, LAZY_EXTERNALS, SECRETS_MANAGER_CLIENT, esbuildOptions, lambdaBundling } from '../../infra/constructs/bundling';
import { ManifestFunction, pascalCase } from '../../infra/constructs/manifest-function';
import { findFunction, manifest, type FunctionSpec } from '../../infra/manifest';

/**
 * The bundling the benchmark chose (infra/constructs/bundling.ts) is what the
 * stack deploys, for every manifest entry, and its aliases keep the code
 * working: a bundle built with them seals and opens a token.
 */
const root = path.join(import.meta.dirname, '..', '..');
const cdkContext = (JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const scratch = mkdtempSync(path.join(tmpdir(), 'bundling-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const spec = (name: string): FunctionSpec => {
  const found = findFunction(name);
  if (!found) throw new Error(`no manifest entry ${name}`);
  return found;
};

/** esbuild as NodejsFunction runs it with `lambdaBundling` for `fn`. */
async function bundle(fn: FunctionSpec, entry: { file: string } | { contents: string }, outfile: string) {
  return build({
    ...esbuildOptions(root, fn),
    ...('file' in entry ? { entryPoints: [path.join(root, entry.file)] } : { stdin: { contents: entry.contents, resolveDir: root, loader: 'ts' as const } }),
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
}

/** Modules that made it into the output (esbuild also lists modules it parsed and then shook out entirely). */
const bundledInputs = (metafile: Metafile): string[] =>
  Object.values(metafile.outputs).flatMap((output) => Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([input]) => input));

describe('Lambda bundling', () => {
  it('bundles the AWS SDK, leaves out only the lazy externals (and the Secrets Manager client where no provider secret is read), and aliases the Encryption SDK and asn1.js', () => {
    const options = lambdaBundling(root, spec('slack-webhook'));
    expect(options).toMatchObject({ format: OutputFormat.ESM, minify: true, sourceMap: true, target: 'node22', bundleAwsSDK: true, banner: CREATE_REQUIRE_BANNER });
    expect(options.externalModules).toEqual([...LAZY_EXTERNALS]);
    expect(lambdaBundling(root, spec('google-webhook')).externalModules).toEqual([...LAZY_EXTERNALS, SECRETS_MANAGER_CLIENT]);
    expect(LAZY_EXTERNALS.some((name) => name.includes('client-dynamodb') || name === '@aws-sdk/*')).toBe(false);
    expect(options.esbuildArgs).toEqual(
      Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, path.join(root, to)])),
    );
    for (const target of Object.values(BUNDLE_ALIASES)) expect(existsSync(path.join(root, target))).toBe(true);
  });

  it('is what the stack gives every manifest function', () => {
    const { stack } = buildApp({ context: { ...cdkContext, region: 'eu-west-1', 'aws:cdk:bundling-stacks': [] }, nag: false });
    const functions = stack.node.findAll().filter((construct): construct is ManifestFunction => construct instanceof ManifestFunction);
    expect(functions).toHaveLength(manifest.length);
    for (const fn of functions) {
      const deployed = manifest.find((each) => pascalCase(each.name) === fn.node.id);
      expect(deployed, fn.node.id).toBeDefined();
      if (deployed) expect(fn.bundling).toEqual(lambdaBundling(root, deployed));
    }
  });

  it('puts the Secrets Manager client inside the bundles that read the provider secret at every cold start, and leaves it out of the others', async () => {
    const secretsManagerInputs = async (name: string) =>
      bundledInputs((await bundle(spec(name), { file: spec(name).entry }, path.join(scratch, `${name}.mjs`))).metafile).filter((input) =>
        input.includes(`node_modules/${SECRETS_MANAGER_CLIENT}/`),
      );
    const [reader, nonReader] = await Promise.all([secretsManagerInputs('slack-webhook'), secretsManagerInputs('google-webhook')]);
    expect(spec('slack-webhook').access.providerCredentials).toBe(true);
    expect(reader.length).toBeGreaterThan(0);
    expect(spec('google-webhook').access.providerCredentials).toBeFalsy();
    expect(nonReader).toEqual([]);
  });

  it('keeps the token vault working: a bundle seals and opens a token, without asn1.js or the KMS keyrings', async () => {
    const outfile = path.join(scratch, 'vault.mjs');
    const result = await bundle(
      spec('oauth-callback'),
      {
        contents: `
          import { TokenVault } from './shared/crypto/vault';
          import { StaticWrappingKeys } from './shared/crypto/wrapping-keys';
          const vault = new TokenVault(new StaticWrappingKeys('${'ab'.repeat(32)}'));
          const context = { orgId: 'org', integrationId: 'int_1', provider: 'slack', kind: 'oauth' };
          const sealed = await vault.seal('xoxb-secret', context);
          process.stdout.write(String(await vault.open(sealed, context)));
        `,
      },
      outfile,
    );
    const inputs = bundledInputs(result.metafile);
    expect(inputs.filter((input) => /node_modules\/(asn1\.js|@aws-crypto\/(kms-keyring|branch-keystore|raw-rsa|caching))/.test(input))).toEqual([]);
    expect(Object.keys(result.metafile.inputs)).toContain('infra/constructs/shims/asn1-unused.ts');
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], { cwd: scratch });
    expect(stdout).toBe('xoxb-secret');
  });

  it('leaves out nothing a call reaches: outside node_modules, where no external resolves, a bundle still calls DynamoDB, EventBridge and Secrets Manager', async () => {
    const outfile = path.join(scratch, 'aws-calls.mjs');
    await bundle(
      spec('sync-worker'),
      {
        contents: `
          import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
          import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
          import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
          import { createServer } from 'node:http';
          const answers = { DynamoDB: { Item: { pk: { S: 'found' } } }, AWSEvents: { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] }, secretsmanager: { SecretString: 'kept' } };
          const server = createServer((request, response) => {
            request.resume();
            request.on('end', () => {
              const service = String(request.headers['x-amz-target']).split('_')[0].split('.')[0];
              response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(answers[service]));
            });
          });
          await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
          const config = { endpoint: 'http://127.0.0.1:' + server.address().port, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
          const item = await new DynamoDBClient(config).send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'found' } } }));
          const put = await new EventBridgeClient(config).send(new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 'd', Detail: '{}' }] }));
          const secret = await new SecretsManagerClient(config).send(new GetSecretValueCommand({ SecretId: 'x' }));
          server.close();
          process.stdout.write([item.Item?.pk?.S, put.Entries?.[0]?.EventId, secret.SecretString].join(' '));
        `,
      },
      outfile,
    );
    const { stdout } = await promisify(execFile)(process.execPath, [outfile], { cwd: scratch });
    expect(stdout).toBe('found e1 kept');
  });

  it('gives functions without table access no DynamoDB client (the catalog among them)', async () => {
    const tableless = manifest.filter((spec) => spec.access.table === 'none');
    expect(tableless.map((fn) => fn.name)).toContain('list-providers');
    for (const fn of tableless) {
      const result = await bundle(fn, { file: fn.entry }, path.join(scratch, `${fn.name}.mjs`));
      const inputs = bundledInputs(result.metafile);
      expect(inputs.filter((input) => input.includes('@aws-sdk/client-dynamodb')), fn.name).toEqual([]);
      expect(readFileSync(path.join(scratch, `${fn.name}.mjs`)).length).toBeGreaterThan(1000);
    }
  });
});
