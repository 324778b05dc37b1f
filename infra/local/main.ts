import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, findProvider } from '../../shared/providers/registry';
import { manifest } from '../manifest';
import { DataDirInUseError, lockDataDir, prepareDataDir } from './data-dir';
import { ensureTable, startEmbeddedDynamo } from './embedded-store';
import { localEnv, localKeys } from './local-config';
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
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const signals = stopOnSignals({ drainMs: env.LOCAL_SHUTDOWN_SECONDS * 1000, log });
  const keys = localKeys(env);

  const dynamo = await startEmbeddedDynamo({ path: join(env.dataDir, 'dynamodb') });
  await ensureTable(dynamo.endpoint, env.TABLE_NAME);

  if (process.env.TOKEN_KMS_KEY_ARN) {
    process.stdout.write('[local] TOKEN_KMS_KEY_ARN is ignored locally: tokens use the local keyring\n');
    delete process.env.TOKEN_KMS_KEY_ARN;
  }

  // Providers without client credentials run against the sandbox fakes; their state survives restarts.
  const providerModes = catalog()
    .filter((entry) => findProvider(entry.id)?.oauth)
    .map((entry) => {
      const env = findProvider(entry.id)?.oauth?.credentialEnv;
      const real = Boolean(env && process.env[env.clientId] && process.env[env.clientSecret]);
      return { id: entry.id, real, env };
    });
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
        WEBHOOK_URL_GOOGLE: process.env.WEBHOOK_URL_GOOGLE ?? `${url}/api/webhooks/google`,
        WEBHOOK_URL_MICROSOFT: process.env.WEBHOOK_URL_MICROSOFT ?? `${url}/api/webhooks/microsoft`,
        GMAIL_PUSH_AUDIENCE: process.env.GMAIL_PUSH_AUDIENCE ?? `${url}/api/webhooks/google`,
        ...(providerModes.find((mode) => mode.id === 'google')?.real
          ? {}
          : { GOOGLE_JWKS_URL: process.env.GOOGLE_JWKS_URL ?? `${url}/sandbox/google/www/oauth2/v3/certs` }),
        POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'false',
        // Outgoing webhooks may reach loopback receivers here (never in AWS); tests narrow it to `loopback-only`.
        OUTGOING_WEBHOOKS_NETWORK: process.env.OUTGOING_WEBHOOKS_NETWORK ?? 'local',
      });
    },
  });

  // The sandbox delivers Gmail pushes (with our audience) and signed Slack events to our webhooks.
  sandbox.configurePush({
    gmailPushUrl: `${server.url}/api/webhooks/google`,
    gmailPushAudience: process.env.GMAIL_PUSH_AUDIENCE ?? null,
    ...(providerModes.find((mode) => mode.id === 'slack')?.real ? {} : { slackEventsUrl: `${server.url}/api/webhooks/slack` }),
  });

  lock.announce(server.url);
  signals.ready({ server, dynamo, ttlSweeper, sandbox, lock });

  process.stdout.write(
    [
      '',
      'HR integrations backend: local runtime',
      `  API            ${server.url}`,
      `  Data           ${env.dataDir} (DynamoDB protocol: dynalite on disk)`,
      `  App origin     ${process.env.APP_BASE_URL}`,
      ...providerModes.map(
        (mode) =>
          `  ${mode.id.padEnd(14)} ${mode.real ? 'real provider' : `SANDBOX at ${server.url}/sandbox/${mode.id} (set ${mode.env?.clientId} and ${mode.env?.clientSecret} for the real one)`}`,
      ),
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
