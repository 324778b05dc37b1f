import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { providerDefinitions } from '../../shared/providers/registry';
import { manifest } from '../manifest';
import { DataDirInUseError, lockDataDir, prepareDataDir } from './data-dir';
import { ensureTable, startEmbeddedDynamo } from './embedded-store';
import { localEnv, localKeys } from './local-config';
import { storeEndpointAnnouncement } from './local-store';
import { Sandbox } from './sandbox';
import { LocalTtlSweeper } from './ttl-sweeper';
import { startLocalServer } from './server';
import { stopOnSignals } from './shutdown';

/**
 * `npm start`: the whole system on its embedded defaults. dynalite on disk
 * under DATA_DIR, a local keyring, the local JWT authorizer, the scheduler and
 * the event bus, every function of the manifest behind one HTTP port.
 */
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

async function main(): Promise<void> {
  const env = localEnv();
  prepareDataDir(env.dataDir);
  // Before anything else touches DATA_DIR: a second runtime on it stops here with one line.
  const lock = lockDataDir(env.dataDir);
  const announceStoreEndpoint = storeEndpointAnnouncement(env.dataDir);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const signals = stopOnSignals({ drainMs: env.LOCAL_SHUTDOWN_SECONDS * 1000, log });
  const keys = localKeys(env);

  const dynamo = await startEmbeddedDynamo({ path: join(env.dataDir, 'dynamodb') });
  await ensureTable(dynamo.endpoint, env.TABLE_NAME);
  // Operator commands run beside the runtime (npm run notion-webhook) reach the store here.
  announceStoreEndpoint(dynamo.endpoint);

  if (process.env.TOKEN_KMS_KEY_ARN) {
    process.stdout.write('[local] TOKEN_KMS_KEY_ARN is ignored locally: tokens use the local keyring\n');
    delete process.env.TOKEN_KMS_KEY_ARN;
  }

  // Providers without client credentials run against the sandbox fakes; their state survives restarts.
  const providerModes = providerDefinitions()
    .filter((provider) => provider.oauth)
    .map((provider) => {
      const env = provider.oauth?.credentialEnv;
      const real = Boolean(env && process.env[env.clientId] && process.env[env.clientSecret]);
      return { id: provider.catalog.id, real, env, wiring: provider.wiring };
    });
  // Each webhook of the manifest is served at its path; its URL reaches the functions as WEBHOOK_URL_<PROVIDER>.
  const webhooks = manifest.flatMap((spec) => (spec.trigger.kind === 'webhook' ? [{ provider: spec.trigger.provider, path: spec.trigger.path }] : []));
  const webhookUrlEnv = (provider: string) => `WEBHOOK_URL_${provider.toUpperCase()}`;
  const sandbox = new Sandbox({ statePath: join(env.dataDir, 'sandbox-state.json') });
  // dynalite has no TTL: the sweeper deletes expired items as DynamoDB would.
  const ttlSweeper = new LocalTtlSweeper(dynamo.endpoint, env.TABLE_NAME);
  ttlSweeper.start(env.LOCAL_TTL_SWEEP_SECONDS * 1000);

  const server = await startLocalServer({
    root,
    functions: manifest,
    host: env.HOST,
    port: env.PORT,
    jwtSecret: keys.jwtSecret,
    eventBusName: env.EVENT_BUS_NAME,
    scheduler: env.LOCAL_SCHEDULER === 'on',
    sandbox,
    sweepTtl: () => ttlSweeper.sweep(),
    beforeLoad: (url) => {
      // The handlers read the same variables as on Lambda; here they point at the local stand-ins.
      Object.assign(process.env, {
        AWS_REGION: process.env.AWS_REGION ?? 'local',
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: `${url}/_local/eventbridge`,
        TABLE_NAME: env.TABLE_NAME,
        EVENT_BUS_NAME: env.EVENT_BUS_NAME,
        INTEGRATION_ENCRYPTION_KEY: keys.encryptionKey,
        CURSOR_SIGNING_KEY: keys.cursorKey,
        APP_BASE_URL: env.APP_BASE_URL ?? url,
        API_BASE_URL: url,
        SANDBOX_BASE_URL: `${url}/sandbox`,
        ...Object.fromEntries(webhooks.map(({ provider, path }) => [webhookUrlEnv(provider), process.env[webhookUrlEnv(provider)] ?? `${url}${path}`])),
        POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'false',
        // Outgoing webhooks may reach loopback receivers here (never in AWS); tests narrow it to `loopback-only`.
        OUTGOING_WEBHOOKS_NETWORK: process.env.OUTGOING_WEBHOOKS_NETWORK ?? 'local',
      });
      // What each provider needs set locally (Google: the push audience, the sandbox's JWKS); the environment wins.
      for (const mode of providerModes) {
        const webhook = webhooks.find((candidate) => candidate.provider === mode.id);
        const wanted = mode.wiring?.localEnv?.({ webhookUrl: `${url}${webhook?.path ?? ''}`, sandboxUrl: `${url}/sandbox`, real: mode.real }) ?? {};
        for (const [name, value] of Object.entries(wanted)) process.env[name] ??= value;
      }
    },
  });

  // The sandboxed providers deliver their pushes and events to our webhooks.
  sandbox.connectWebhooks(
    Object.fromEntries(webhooks.filter(({ provider }) => !providerModes.find((mode) => mode.id === provider)?.real).map(({ provider, path }) => [provider, `${server.url}${path}`])),
    process.env,
  );

  lock.announce(server.url);
  signals.ready({ server, dynamo, ttlSweeper, sandbox, lock });

  process.stdout.write(
    [
      '',
      'HR integrations backend: local runtime',
      `  API            ${server.url}`,
      `  Settings page  ${server.url}/settings/integrations (local dev sign-in: pick an organisation and a role)`,
      `  Data           ${env.dataDir} (DynamoDB protocol: dynalite on disk)`,
      `  App origin     ${process.env.APP_BASE_URL}`,
      ...providerModes.map(
        (mode) =>
          `  ${mode.id.padEnd(14)} ${mode.real ? 'real provider' : `SANDBOX at ${server.url}/sandbox/${mode.id} (set ${mode.env?.clientId} and ${mode.env?.clientSecret} for the real one)`}`,
      ),
      ...providerModes.flatMap((mode) => (mode.wiring?.localConsole ?? []).map((line) => `  ${line}`)),
      `  Scheduler      ${env.LOCAL_SCHEDULER === 'on' ? server.scheduler.jobNames().join(', ') : 'off (LOCAL_SCHEDULER=off)'}`,
      '',
      '  Get a token:   TOKEN=$(npm run -s token -- --org acme --role admin)',
      `  Try it:        curl -H "Authorization: Bearer $TOKEN" ${server.url}/api/integrations/providers`,
      '',
      `Listening on ${server.url}`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (error instanceof DataDirInUseError) process.stderr.write(`${error.message}\n`);
  else process.stderr.write(`[local] failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
