import { parseArgs } from 'node:util';
import * as z from 'zod';
import { isCandidatePosition, pinnedToken, pinToken, tokenCandidates, tokenFingerprint, unpinToken, type PinnedToken } from '../../shared/store/webhook-verification-tokens';
import { localEnv } from '../local/local-config';
import { openLocalStore, runtimeStoreUnavailable } from '../local/local-store';

/**
 * The app operator's side of Notion's webhook verification (README
 * "Webhooks"): Notion posts a verification token to the webhook when the
 * app owner creates the subscription, anyone else can post one too, and
 * only the owner can tell the real one (Notion's "Verify subscription" form
 * accepts only the token Notion sent). So the operator lists what arrived,
 * the owner pastes candidates into Notion until it accepts one, and the
 * operator pins that one: events verify against the pinned token only.
 *
 *   npm run -s notion-webhook -- pending [--since <time>] [--before <time or position>] [--limit <n>]
 *   npm run -s notion-webhook -- pin <token>     (or `pin -`: the token on stdin, kept out of shell history and the process list)
 *   npm run -s notion-webhook -- unpin
 *   npm run -s notion-webhook -- status
 *
 * Locally (the default) it works on the local runtime's store under
 * DATA_DIR, running or not; with `--aws`, on TABLE_NAME in AWS through the
 * standard AWS credential chain. Tokens appear on stdout only (`pending`),
 * for the operator to hand to the owner; nothing else shows them. Anyone
 * can post a token: the webhook keeps printable ASCII only, and what is
 * printed is made inert anyway (tokens kept before that rule), so no token
 * can drive the operator's terminal or forge a line.
 */
const PROVIDER = 'notion';
const COMMAND = 'npm run -s notion-webhook --';

const time = z.union([z.iso.datetime(), z.iso.date()]);
/** Where the previous page ended (the hint it prints): exact, unlike its last time, which other tokens may share. */
const position = z.string().refine(isCandidatePosition);
const commandSchema = z.discriminatedUnion('command', [
  z.object({
    command: z.literal('pending'),
    since: time.optional(),
    before: z.union([time, position]).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  }),
  z.object({ command: z.literal('pin'), token: z.string().min(1).max(256) }),
  z.object({ command: z.literal('unpin') }),
  z.object({ command: z.literal('status') }),
]);
type Command = z.infer<typeof commandSchema>;

const USAGE = `Usage: ${COMMAND} <command> [--aws]
  pending [--since <time>] [--before <time or position>] [--limit <1-100>]
                  verification tokens Notion's webhook received, newest first (stdout: "<receivedAt> <token>");
                  a full page ends with the --before <position> of the next one
  pin <token>     events verify against this token from now on (it must be one the webhook received);
                  pin - reads it from stdin, keeping it out of shell history and the process list
  unpin           refuse every event until a token is pinned again
  status          whether a token is pinned
Local runtime store under DATA_DIR by default; --aws: the table TABLE_NAME in AWS (standard AWS credential chain).`;

/** Shows each character `outside` matches (by default, any but printable ASCII) as `\uXXXX`: text from outside never reaches the terminal raw. */
const inert = (text: string, outside = /[^\x20-\x7e]/g) => text.replace(outside, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
const out = (line: string) => process.stdout.write(`${line}\n`);
const say = (line: string) => process.stderr.write(`${line}\n`);
const describePin = (pinned: PinnedToken) =>
  `the token received at ${pinned.receivedAt}, pinned at ${pinned.pinnedAt} (sha256 ${tokenFingerprint(pinned.token).slice(0, 12)}…)`;

async function run(command: Command): Promise<number> {
  switch (command.command) {
    case 'pending': {
      const candidates = await tokenCandidates(PROVIDER, { ...command });
      const pinned = await pinnedToken(PROVIDER);
      if (pinned) say(`Pinned now: ${describePin(pinned)}.`);
      if (candidates.length === 0) {
        say("No verification token received (in the last 7 days, or in the window given). Create the subscription in Notion's integration settings (Webhooks), then run this again.");
        return 0;
      }
      say(`Verification tokens received, newest first. The app owner pastes the right one into Notion's "Verify subscription" form (Notion accepts only the token it sent); then: ${COMMAND} pin <token>`);
      // A token is one word of printable ASCII on its line, whatever was posted.
      for (const candidate of candidates) out(`${candidate.receivedAt} ${inert(candidate.token, /[^\x21-\x7e]/g)}`);
      if (candidates.length === command.limit) say(`Older ones: add --before ${candidates.at(-1)?.position ?? ''}`);
      return 0;
    }
    case 'pin': {
      const pinned = await pinToken(PROVIDER, command.token);
      if (!pinned) {
        say(`Not pinned: the webhook has not received that token (or it expired, 7 days after it came). See ${COMMAND} pending`);
        return 1;
      }
      out(`Pinned ${describePin(pinned)}. Notion events verify against it from now on.`);
      return 0;
    }
    case 'unpin':
      out((await unpinToken(PROVIDER)) ? 'Unpinned: every Notion event is refused (401) until a token is pinned again; the scheduled sync keeps data current.' : 'Nothing was pinned.');
      return 0;
    case 'status': {
      const pinned = await pinnedToken(PROVIDER);
      out(pinned ? `Pinned: ${describePin(pinned)}.` : `Not pinned: every Notion event is refused (401); the scheduled sync keeps data current. See ${COMMAND} pending`);
      return 0;
    }
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

/** Points the store's client at the local runtime's store; returns how to let it go. */
async function useLocalStore(): Promise<() => Promise<void>> {
  const env = localEnv();
  const store = await openLocalStore(env.dataDir, env.TABLE_NAME);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    TABLE_NAME: env.TABLE_NAME,
  });
  return () => store.close();
}

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { aws: { type: 'boolean', default: false }, since: { type: 'string' }, before: { type: 'string' }, limit: { type: 'string' } },
  });
  const token = positionals[0] === 'pin' && positionals[1] === '-' ? (await readStdin()).trim() : positionals[1];
  const parsed = commandSchema.safeParse({ command: positionals[0], token, since: values.since, before: values.before, limit: values.limit });
  if (!parsed.success || positionals.length > (parsed.data.command === 'pin' ? 2 : 1)) {
    say(USAGE);
    process.exit(2);
  }
  const release = values.aws ? async () => undefined : await useLocalStore();
  try {
    process.exitCode = await run(parsed.data);
  } catch (error) {
    // The runtime's announced store refused the connection: it is stopping, or (a crash) it left its announcement.
    if (!values.aws && (error as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw new Error(runtimeStoreUnavailable(localEnv().dataDir), { cause: error });
    throw error;
  } finally {
    await release();
  }
} catch (error) {
  say(inert(error instanceof Error ? error.message : String(error)));
  process.exit(2);
}
