import * as z from 'zod';
import { SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { DATA_RESOURCES, dataResourceSchema, mergeDeep, type DataItem, type DataResource, type MutationContext, type SyncData } from './data';
import { SandboxConflictError, SandboxInputError, SandboxNotFoundError } from './errors';
import { BASE32HEX, epochSeconds, randomB64url, randomChars, randomHex, stableChars, stableUuid, UPPER_ALNUM } from './ids';
import { slackChannelValue, slackTeam, slackUserObject, SLACK_SEED_TIME } from './slack-team';
import type { ProviderId, SandboxStore } from './state';

/**
 * Items of the sync data in each provider's own shape (what the listing APIs
 * answer), and the control operations that change them: `add`, `update`
 * (deep merge: objects merge key by key, arrays and scalars replace),
 * `delete`, `bulk-add`, `invalidate-cursors` and Slack's `join`.
 *
 * Slack never removes users or channels: `delete` deactivates a user
 * (`deleted: true`) and archives a channel (`is_archived: true`); both stay in
 * the listings. Elsewhere `delete` leaves a tombstone that incremental
 * listings report (Calendar `status: 'cancelled'`, Drive `removed: true`,
 * Gmail `messagesDeleted`, Graph `@removed`).
 */

type Value = Record<string, unknown>;
type Context = MutationContext & { id: string };

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HOUR_MS = 3_600_000;

const iso = (ms: number): string => new Date(ms).toISOString();
/** Graph writes date-times with seven fractional digits. */
const graphDate = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '0000Z');
/** Graph's `dateTimeTimeZone.dateTime`: local time, seven fractional digits, no offset. */
const graphLocal = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000');

const capitalize = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
function displayName(email: string): string {
  const words = (email.split('@')[0] ?? '').split(/[._+-]+/).filter((word) => word !== '').map(capitalize);
  return words.length > 0 ? words.join(' ') : email;
}

const str = (value: unknown, fallback: string): string => (typeof value === 'string' ? value : fallback);
const num = (value: unknown, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** The start of a generated event: spread over the next 60 days, 8:00 to 17:00 UTC. */
function generatedStart(now: number, index: number): number {
  const day = Math.floor(now / (24 * HOUR_MS)) * 24 * HOUR_MS;
  return day + (index % 60) * 24 * HOUR_MS + (8 + (Math.floor(index / 60) % 10)) * HOUR_MS;
}

// --- per-resource factories ---

interface Factory {
  newId(): string;
  create(account: string, input: Value, context: Context): Value;
  /** The `index`th item of a bulk-add. */
  generated(account: string, index: number, context: Context): Value;
  update(previous: Value, patch: Value, context: Context): Value;
}

/** `values` with `input` merged in and the id fixed. */
const finish = (base: Value, input: Value, id: string, forced: Value = {}): Value => ({ ...mergeDeep(base, input), ...forced, id });

function slackUsers(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const name = str(input.name, `user.${context.id.slice(1, 7).toLowerCase()}`);
    const realName = str(input.real_name, displayName(`${name}@x`));
    const team = slackTeam(account);
    const user = { id: context.id, name, realName, email: `${name}@${team.domain}.sandbox-slack.test`, isBot: input.is_bot === true, isAdmin: input.is_admin === true };
    return finish(slackUserObject(account, user, epochSeconds(context.now)), input, context.id, { team_id: account });
  };
  return {
    newId: () => `U${randomChars(10, UPPER_ALNUM)}`,
    create,
    generated: (account, index, context) => create(account, { name: `employee.${index}`, real_name: `Employee ${index}` }, context),
    update: (previous, patch, context) => ({ ...mergeDeep(previous, patch), id: previous.id, updated: epochSeconds(context.now) }),
  };
}

function slackChannels(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const team = slackTeam(account);
    const creator = str(input.creator, team.admin.id);
    const members = Array.isArray(input.members) ? input.members.filter((member): member is string => typeof member === 'string') : [creator];
    const record = {
      id: context.id,
      teamId: account,
      name: str(input.name, `channel-${context.id.slice(1, 7).toLowerCase()}`),
      isPrivate: input.is_private === true,
      created: epochSeconds(context.now),
      creator,
    };
    return finish(slackChannelValue(record, members), input, context.id, { members, updated: context.now });
  };
  return {
    newId: () => `C${randomChars(10, UPPER_ALNUM)}`,
    create,
    generated: (account, index, context) => create(account, { name: `bulk-channel-${index}` }, context),
    update: (previous, patch, context) => ({ ...mergeDeep(previous, patch), id: previous.id, updated: context.now }),
  };
}

const googleEtag = (context: MutationContext): string => `"${context.now * 1000 + (context.seq % 1000)}"`;

function googleCalendar(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const start = Math.ceil(context.now / HOUR_MS) * HOUR_MS + HOUR_MS;
    const base: Value = {
      kind: 'calendar#event',
      id: context.id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${context.id} ${account}`).toString('base64url')}`,
      created: iso(context.now),
      updated: iso(context.now),
      summary: 'Sandbox event',
      creator: { email: account, self: true },
      organizer: { email: account, self: true },
      start: { dateTime: iso(start), timeZone: 'UTC' },
      end: { dateTime: iso(start + HOUR_MS / 2), timeZone: 'UTC' },
      iCalUID: `${context.id}@google.com`,
      sequence: 0,
      reminders: { useDefault: true },
      eventType: 'default',
    };
    return finish(base, input, context.id, { kind: 'calendar#event', etag: googleEtag(context) });
  };
  return {
    newId: () => randomChars(26, BASE32HEX),
    create,
    generated: (account, index, context) => {
      const start = generatedStart(context.now, index);
      return create(account, { summary: `Event ${index}`, start: { dateTime: iso(start), timeZone: 'UTC' }, end: { dateTime: iso(start + HOUR_MS / 2), timeZone: 'UTC' } }, context);
    },
    update: (previous, patch, context) => ({
      ...mergeDeep(previous, patch),
      id: previous.id,
      etag: googleEtag(context),
      updated: iso(context.now),
      sequence: num(previous.sequence, 0) + 1,
    }),
  };
}

export const driveRootId = (account: string): string => `0A${stableChars(`drive-root:${account}`, 17, B64URL)}Uk9PVA`;

function googleDrive(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const owner = { kind: 'drive#user', displayName: displayName(account), me: true, permissionId: stableChars(`drive-permission:${account}`, 20, '0123456789'), emailAddress: account };
    const mimeType = str(input.mimeType, 'application/vnd.google-apps.document');
    const base: Value = {
      kind: 'drive#file',
      id: context.id,
      name: 'Untitled document',
      mimeType,
      parents: [driveRootId(account)],
      webViewLink: `https://docs.google.com/document/d/${context.id}/edit?usp=drivesdk`,
      createdTime: iso(context.now),
      modifiedTime: iso(context.now),
      trashed: false,
      starred: false,
      owners: [owner],
      lastModifyingUser: owner,
      ownedByMe: true,
      shared: false,
    };
    return finish(base, input, context.id, { kind: 'drive#file', version: String(context.seq) });
  };
  return {
    newId: () => `1${randomChars(32, B64URL)}`,
    create,
    generated: (account, index, context) => create(account, { name: `Document ${index}.txt`, mimeType: 'text/plain', size: String(1_000 + index) }, context),
    update: (previous, patch, context) => ({ ...mergeDeep(previous, patch), id: previous.id, modifiedTime: iso(context.now), version: String(context.seq) }),
  };
}

function gmailMessages(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const { subject: subjectInput, from: fromInput, to: toInput, text: textInput, ...rest } = input;
    const subject = str(subjectInput, 'Sandbox message');
    const from = str(fromInput, 'Sandbox Sender <sender@example.com>');
    const to = str(toInput, account);
    const text = str(textInput, `Hello from the sandbox: ${subject}`);
    const base: Value = {
      id: context.id,
      threadId: context.id,
      labelIds: ['INBOX', 'UNREAD'],
      snippet: text.slice(0, 200),
      sizeEstimate: 600 + text.length,
      internalDate: String(context.now),
      payload: {
        partId: '',
        mimeType: 'text/plain',
        filename: '',
        headers: [
          { name: 'Delivered-To', value: account },
          { name: 'From', value: from },
          { name: 'To', value: to },
          { name: 'Subject', value: subject },
          { name: 'Date', value: new Date(context.now).toUTCString().replace('GMT', '+0000') },
          { name: 'Message-ID', value: `<${context.id}@sandbox-gmail.test>` },
        ],
        body: { size: text.length, data: Buffer.from(text, 'utf8').toString('base64url') },
      },
    };
    return finish(base, rest, context.id, { historyId: String(context.seq) });
  };
  return {
    newId: () => randomHex(8),
    create,
    generated: (account, index, context) => create(account, { subject: `Message ${index}`, from: `Sender ${index} <sender${index}@example.com>` }, context),
    update: (previous, patch, context) => ({ ...mergeDeep(previous, patch), id: previous.id, historyId: String(context.seq) }),
  };
}

const graphEtag = (): string => `W/"${randomB64url(24)}"`;

function graphEvents(): Factory {
  const create = (account: string, input: Value, context: Context): Value => {
    const start = Math.ceil(context.now / HOUR_MS) * HOUR_MS + HOUR_MS;
    const base: Value = {
      '@odata.etag': graphEtag(),
      id: context.id,
      createdDateTime: graphDate(context.now),
      lastModifiedDateTime: graphDate(context.now),
      changeKey: randomB64url(24),
      categories: [],
      originalStartTimeZone: 'UTC',
      originalEndTimeZone: 'UTC',
      iCalUId: `040000008200E00074C5B7101A82E008${stableChars(`ical:${context.id}`, 32, '0123456789ABCDEF')}`,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      hasAttachments: false,
      subject: 'Sandbox event',
      bodyPreview: '',
      importance: 'normal',
      sensitivity: 'normal',
      isAllDay: false,
      isCancelled: false,
      isOrganizer: true,
      responseRequested: true,
      showAs: 'busy',
      type: 'singleInstance',
      webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(context.id)}&exvsurl=1&path=/calendar/item`,
      isOnlineMeeting: false,
      responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
      body: { contentType: 'html', content: '' },
      start: { dateTime: graphLocal(start), timeZone: 'UTC' },
      end: { dateTime: graphLocal(start + HOUR_MS / 2), timeZone: 'UTC' },
      location: { displayName: '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      attendees: [],
      organizer: { emailAddress: { name: displayName(account), address: account } },
    };
    return finish(base, input, context.id);
  };
  return {
    newId: () => `AAMkA${randomB64url(105)}=`,
    create,
    generated: (account, index, context) => {
      const start = generatedStart(context.now, index);
      return create(account, { subject: `Event ${index}`, start: { dateTime: graphLocal(start), timeZone: 'UTC' }, end: { dateTime: graphLocal(start + HOUR_MS / 2), timeZone: 'UTC' } }, context);
    },
    update: (previous, patch, context) => ({
      ...mergeDeep(previous, patch),
      id: previous.id,
      '@odata.etag': graphEtag(),
      changeKey: randomB64url(24),
      lastModifiedDateTime: graphDate(context.now),
    }),
  };
}

export const oneDriveIds = (account: string) => ({
  driveId: `b!${stableChars(`onedrive-drive:${account}`, 64, B64URL)}`,
  rootId: `01${stableChars(`onedrive-root:${account}`, 32, UPPER_ALNUM)}`,
});

function oneDrive(): Factory {
  const tags = (id: string, seq: number) => {
    const guid = stableUuid(`onedrive-item:${id}`).toUpperCase();
    return { eTag: `"{${guid}},${seq}"`, cTag: `"c:{${guid}},${seq}"` };
  };
  const create = (account: string, input: Value, context: Context): Value => {
    const { driveId, rootId } = oneDriveIds(account);
    const name = str(input.name, 'Document.docx');
    const who = { user: { email: account, displayName: displayName(account) } };
    const base: Value = {
      id: context.id,
      name,
      createdDateTime: iso(context.now).replace(/\.\d{3}Z$/, 'Z'),
      lastModifiedDateTime: iso(context.now).replace(/\.\d{3}Z$/, 'Z'),
      webUrl: `https://sandbox-my.sharepoint.com/personal/${account.replace(/[@.]/g, '_')}/Documents/${encodeURIComponent(name)}`,
      size: 1_024,
      createdBy: who,
      lastModifiedBy: who,
      parentReference: { driveType: 'business', driveId, id: rootId, path: '/drive/root:' },
      fileSystemInfo: { createdDateTime: iso(context.now).replace(/\.\d{3}Z$/, 'Z'), lastModifiedDateTime: iso(context.now).replace(/\.\d{3}Z$/, 'Z') },
      ...('folder' in input ? {} : { file: { mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', hashes: { quickXorHash: randomB64url(20) } } }),
    };
    return finish(base, input, context.id, tags(context.id, context.seq));
  };
  return {
    newId: () => `01${randomChars(32, UPPER_ALNUM)}`,
    create,
    generated: (account, index, context) => create(account, { name: `Document ${index}.txt`, size: 1_000 + index, file: { mimeType: 'text/plain' } }, context),
    update: (previous, patch, context) => {
      const modified = iso(context.now).replace(/\.\d{3}Z$/, 'Z');
      return {
        ...mergeDeep(previous, patch),
        id: previous.id,
        lastModifiedDateTime: modified,
        fileSystemInfo: { ...(typeof previous.fileSystemInfo === 'object' ? previous.fileSystemInfo : {}), lastModifiedDateTime: modified },
        ...tags(str(previous.id, ''), context.seq),
      };
    },
  };
}

const FACTORIES: Record<DataResource, Factory> = {
  users: slackUsers(),
  channels: slackChannels(),
  calendar: googleCalendar(),
  drive: googleDrive(),
  gmail: gmailMessages(),
  events: graphEvents(),
  onedrive: oneDrive(),
};

export const newDataId = (resource: DataResource): string => FACTORIES[resource].newId();

/** What a collection starts with: Slack teams have their users and channels (and the channels created before sync data existed). */
export function seedData(store: SandboxStore) {
  return (resource: DataResource, account: string): Array<{ id: string; value: Value }> => {
    if (resource === 'users') {
      return slackTeam(account).users.map((user) => ({ id: user.id, value: slackUserObject(account, user, SLACK_SEED_TIME) }));
    }
    if (resource === 'channels') {
      const team = slackTeam(account);
      const humans = team.users.filter((user) => !user.isBot).map((user) => user.id);
      return [
        ...team.seededChannels.map((channel) => ({ id: channel.id, value: slackChannelValue(channel, humans) })),
        ...store.slackChannels(account).map((channel) => ({ id: channel.id, value: slackChannelValue(channel, [channel.creator]) })),
      ];
    }
    return [];
  };
}

// --- control operations ---

const itemSchema = z.record(z.string(), z.unknown());
const accountSchema = z.string().trim().min(1).max(320);

export const dataOpSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('add'), resource: dataResourceSchema, account: accountSchema.optional(), item: itemSchema.optional() }).strict(),
  z.object({ op: z.literal('update'), resource: dataResourceSchema, account: accountSchema.optional(), id: z.string().min(1).optional(), item: itemSchema }).strict(),
  z.object({ op: z.literal('delete'), resource: dataResourceSchema, account: accountSchema.optional(), id: z.string().min(1).optional(), item: itemSchema.optional() }).strict(),
  z
    .object({
      op: z.literal('bulk-add'),
      resource: dataResourceSchema,
      account: accountSchema.optional(),
      count: z.number().int().min(1).max(100_000),
      /** Merged into every generated item. */
      item: itemSchema.optional(),
    })
    .strict(),
  z.object({ op: z.literal('invalidate-cursors'), resource: dataResourceSchema, account: accountSchema.optional() }).strict(),
  /** Slack: `user` joins channel `id` (a `member_joined_channel` event when Slack events are configured). */
  z.object({ op: z.literal('join'), resource: z.literal('channels'), account: accountSchema.optional(), id: z.string().min(1), user: z.string().min(1) }).strict(),
]);
export type DataOp = z.infer<typeof dataOpSchema>;

export interface DataOpResult {
  op: DataOp['op'];
  provider: ProviderId;
  resource: DataResource;
  /** The account (team id, email, UPN); for `invalidate-cursors` without one, the first of `accounts`. */
  account: string;
  /** The item changed (its stored value, in the provider's shape). */
  id?: string;
  item?: Value;
  /** bulk-add: the ids created, oldest first. */
  ids?: string[];
  count?: number;
  /** invalidate-cursors: the accounts whose cursors were invalidated. */
  accounts?: string[];
  /** The collection's change sequence after the operation. */
  sequence: number;
}

export interface DataItemInfo {
  id: string;
  deleted: boolean;
  /** Creation and last-change sequence numbers. */
  created: number;
  seq: number;
  /** Sandbox-clock time of the last change, ISO 8601. */
  at: string;
  value: Value;
}

export const normalizeDataAccount = (provider: ProviderId, account: string): string =>
  provider === 'slack' ? account.trim().toUpperCase() : account.trim().toLowerCase();

export function dataAccount(provider: ProviderId, account: string | undefined): string {
  return normalizeDataAccount(provider, account ?? SANDBOX_DEFAULT_ACCOUNTS[provider]);
}

function checkProvider(provider: ProviderId, resource: DataResource): void {
  if (DATA_RESOURCES[resource] !== provider) {
    throw new SandboxInputError(`${resource} is a ${DATA_RESOURCES[resource]} resource, not a ${provider} one`);
  }
}

/** Adds an item built by its resource's factory from `input` (provider-shaped fields; Gmail also takes subject, from, to, text). */
export function addDataItem(data: SyncData, resource: DataResource, account: string, input: Value = {}, bulk = false): DataItem {
  const factory = FACTORIES[resource];
  const wanted = typeof input.id === 'string' && input.id !== '' ? input.id : undefined;
  if (wanted !== undefined && data.get(resource, account, wanted)) throw new SandboxConflictError(`${resource} ${wanted} already exists for ${account}`);
  const id = wanted ?? factory.newId();
  return data.add(resource, account, id, (context) => factory.create(account, input, { ...context, id }), bulk);
}

export function updateDataItem(data: SyncData, resource: DataResource, account: string, id: string, patch: Value): DataItem {
  const factory = FACTORIES[resource];
  const { id: _ignored, ...rest } = patch;
  const item = data.update(resource, account, id, (previous, context) => factory.update(previous, rest, { ...context, id }));
  if (!item) throw new SandboxNotFoundError(`No ${resource} item ${id} for ${account}`);
  return item;
}

export function applyDataOp(data: SyncData, provider: ProviderId, op: DataOp): DataOpResult {
  checkProvider(provider, op.resource);
  const account = dataAccount(provider, op.account);
  const base = { op: op.op, provider, resource: op.resource, account };
  const done = (extra: Partial<DataOpResult>): DataOpResult => ({ ...base, ...extra, sequence: data.current(op.resource, account) });
  const idOf = (id: string | undefined, item: Value | undefined): string => {
    const found = id ?? (typeof item?.id === 'string' ? item.id : undefined);
    if (!found) throw new SandboxInputError(`${op.op} needs the item's id (id, or item.id)`);
    return found;
  };

  switch (op.op) {
    case 'add': {
      const item = addDataItem(data, op.resource, account, op.item ?? {});
      return done({ id: item.id, item: item.value });
    }
    case 'update': {
      const item = updateDataItem(data, op.resource, account, idOf(op.id, op.item), op.item);
      return done({ id: item.id, item: item.value });
    }
    case 'delete': {
      const id = idOf(op.id, op.item);
      if (op.resource === 'users' || op.resource === 'channels') {
        // Slack deactivates users and archives channels; both stay listed.
        const item = updateDataItem(data, op.resource, account, id, op.resource === 'users' ? { deleted: true } : { is_archived: true });
        return done({ id, item: item.value });
      }
      const item = data.remove(op.resource, account, id);
      if (!item) throw new SandboxNotFoundError(`No ${op.resource} item ${id} for ${account}`);
      return done({ id });
    }
    case 'bulk-add': {
      const factory = FACTORIES[op.resource];
      const ids: string[] = [];
      for (let index = 1; index <= op.count; index += 1) {
        const id = factory.newId();
        data.add(op.resource, account, id, (context) => mergeDeep(factory.generated(account, index, { ...context, id }), op.item ?? {}), true);
        ids.push(id);
      }
      return done({ ids, count: ids.length });
    }
    case 'invalidate-cursors': {
      const accounts = op.account !== undefined ? [account] : [...new Set([account, ...data.accounts(op.resource)])];
      for (const each of accounts) data.invalidate(op.resource, each);
      return done({ accounts });
    }
    case 'join': {
      const channel = data.get('channels', account, op.id);
      if (!channel || channel.deleted) throw new SandboxNotFoundError(`No Slack channel ${op.id} in ${account}`);
      const user = data.get('users', account, op.user);
      if (!user) throw new SandboxNotFoundError(`No Slack user ${op.user} in ${account}`);
      const members = Array.isArray(channel.value.members) ? channel.value.members.filter((member): member is string => typeof member === 'string') : [];
      if (members.includes(op.user)) return done({ id: op.id, item: channel.value });
      const item = updateDataItem(data, 'channels', account, op.id, { members: [...members, op.user] });
      return done({ id: op.id, item: item.value });
    }
  }
}

export function dataItemsInfo(data: SyncData, provider: ProviderId, resource: DataResource, account: string | undefined, includeDeleted: boolean): DataItemInfo[] {
  checkProvider(provider, resource);
  return data.list(resource, dataAccount(provider, account), { includeDeleted }).map((item) => ({
    id: item.id,
    deleted: item.deleted === true,
    created: item.created,
    seq: item.seq,
    at: iso(item.at),
    value: item.value,
  }));
}
