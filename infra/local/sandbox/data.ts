import * as z from 'zod';
import { sha256 } from './ids';
import type { DataCollectionRecord, DataItemRecord, ProviderId, SandboxStore } from './state';

/**
 * The data the sync engine pulls, per resource and account, with the change
 * sequence every incremental protocol of the fakes is built on.
 *
 * Every change (add, update, delete) takes the next sequence number of its
 * collection (Drive and Gmail use the account's Drive change counter and
 * Gmail history id, shared with the push fakes). An item keeps the sequence
 * of its creation (`created`: full listings page by it, so a listing is
 * stable while items change) and of its last change (`seq`: incremental
 * listings page by it, so an item changed during a pass moves ahead and is
 * seen again, never skipped). A deletion leaves a tombstone for the retention
 * window (sandbox clock); dropping one raises the collection's `floor`, and
 * so does `invalidate`: a cursor that saw less than the floor is refused with
 * the provider's "full resync" answer.
 */

export const DATA_RESOURCES = {
  users: 'slack',
  channels: 'slack',
  calendar: 'google',
  drive: 'google',
  gmail: 'google',
  events: 'microsoft',
  onedrive: 'microsoft',
} as const satisfies Record<string, ProviderId>;
export type DataResource = keyof typeof DATA_RESOURCES;
export const DATA_RESOURCE_NAMES = Object.keys(DATA_RESOURCES) as DataResource[];
export const dataResourceSchema = z.enum(DATA_RESOURCE_NAMES as [DataResource, ...DataResource[]]);

/** How long tombstones are kept (sandbox clock) unless `SandboxOptions.dataRetentionSeconds` says otherwise. */
export const DEFAULT_DATA_RETENTION_SECONDS = 7 * 24 * 3600;

const COUNTERS: Partial<Record<DataResource, 'gmailHistory' | 'driveChanges'>> = { drive: 'driveChanges', gmail: 'gmailHistory' };

export type DataItem = DataItemRecord;

export interface DataChange {
  kind: 'add' | 'update' | 'delete';
  resource: DataResource;
  account: string;
  item: DataItem;
  /** The value before an update or a deletion. */
  previous?: Record<string, unknown>;
  /** Part of a bulk-add (no Slack events are sent for those). */
  bulk: boolean;
}

export interface MutationContext {
  seq: number;
  now: number;
}

interface View {
  version: number;
  /** Every item (tombstones included) by creation sequence. */
  byCreated: DataItem[];
  /** Every item by last-change sequence. */
  bySeq: DataItem[];
  oldestTombstoneAt: number;
}

export interface Page {
  items: DataItem[];
  /** Another matching item exists after the last one returned. */
  more: boolean;
}

export interface SyncDataOptions {
  retentionMs: number;
  /** The items a collection starts with (Slack: the team's users and channels). */
  seed(resource: DataResource, account: string): Array<{ id: string; value: Record<string, unknown> }>;
}

/** The first index whose key is greater than `after` (keys ascending). */
function firstAfter(items: DataItem[], after: number, key: (item: DataItem) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const item = items[middle];
    if (item !== undefined && key(item) <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

export class SyncData {
  private readonly versions = new WeakMap<DataCollectionRecord, number>();
  private readonly views = new WeakMap<DataCollectionRecord, View>();
  private readonly listeners: Array<(change: DataChange) => void> = [];

  constructor(
    private readonly store: SandboxStore,
    private readonly options: SyncDataOptions,
  ) {}

  onChange(listener: (change: DataChange) => void): void {
    this.listeners.push(listener);
  }

  /** The accounts that have a collection of `resource`. */
  accounts(resource: DataResource): string[] {
    const prefix = `${resource}:`;
    return Object.keys(this.store.data)
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
  }

  /** A short tag binding opaque tokens to their collection. */
  tag(resource: DataResource, account: string): string {
    return sha256(`${resource}:${account}`).toString('hex').slice(0, 10);
  }

  private collection(resource: DataResource, account: string): DataCollectionRecord {
    const key = `${resource}:${account}`;
    const existing = this.store.data[key];
    if (existing) return existing;
    const created: DataCollectionRecord = { seq: 0, floor: 0, items: {} };
    this.store.data[key] = created;
    const now = this.store.now();
    for (const seed of this.options.seed(resource, account)) {
      const seq = this.nextSeq(resource, account, created);
      created.items[seed.id] = { id: seed.id, created: seq, seq, at: now, value: seed.value };
    }
    this.store.touch();
    return created;
  }

  private nextSeq(resource: DataResource, account: string, collection: DataCollectionRecord): number {
    const counter = COUNTERS[resource];
    if (counter) return this.store.bumpCounter(counter, account);
    collection.seq += 1;
    return collection.seq;
  }

  /** The sequence of the last change (a cursor taken now has seen everything up to it). */
  current(resource: DataResource, account: string): number {
    const collection = this.collection(resource, account);
    const counter = COUNTERS[resource];
    return counter ? this.store.counter(counter, account) : collection.seq;
  }

  private changed(collection: DataCollectionRecord): void {
    this.versions.set(collection, (this.versions.get(collection) ?? 0) + 1);
    this.store.touch();
  }

  private view(collection: DataCollectionRecord): View {
    const version = this.versions.get(collection) ?? 0;
    const cached = this.views.get(collection);
    if (cached && cached.version === version) return cached;
    const all = Object.values(collection.items);
    let oldestTombstoneAt = Number.POSITIVE_INFINITY;
    for (const item of all) if (item.deleted && item.at < oldestTombstoneAt) oldestTombstoneAt = item.at;
    const view: View = {
      version,
      byCreated: [...all].sort((a, b) => a.created - b.created),
      bySeq: all.sort((a, b) => a.seq - b.seq),
      oldestTombstoneAt,
    };
    this.views.set(collection, view);
    return view;
  }

  /** Drops tombstones older than the retention window; cursors that had not seen them become invalid. */
  private prune(collection: DataCollectionRecord): void {
    const horizon = this.store.now() - this.options.retentionMs;
    if (this.view(collection).oldestTombstoneAt >= horizon) return;
    for (const [id, item] of Object.entries(collection.items)) {
      if (item.deleted && item.at < horizon) {
        delete collection.items[id];
        collection.floor = Math.max(collection.floor, item.seq);
      }
    }
    this.changed(collection);
  }

  /** Whether a cursor that has seen every change up to `seen` can still be followed. */
  valid(resource: DataResource, account: string, seen: number): boolean {
    const collection = this.collection(resource, account);
    this.prune(collection);
    return seen >= collection.floor;
  }

  get(resource: DataResource, account: string, id: string): DataItem | undefined {
    return this.collection(resource, account).items[id];
  }

  /** Live items (or every item with tombstones), in creation order. */
  list(resource: DataResource, account: string, options: { includeDeleted?: boolean } = {}): DataItem[] {
    const collection = this.collection(resource, account);
    this.prune(collection);
    return this.view(collection).byCreated.filter((item) => options.includeDeleted || !item.deleted);
  }

  count(resource: DataResource, account: string): number {
    return this.list(resource, account).length;
  }

  // --- changes ---

  add(resource: DataResource, account: string, id: string, make: (context: MutationContext) => Record<string, unknown>, bulk = false): DataItem {
    const collection = this.collection(resource, account);
    const seq = this.nextSeq(resource, account, collection);
    const now = this.store.now();
    const item: DataItem = { id, created: seq, seq, at: now, value: make({ seq, now }) };
    collection.items[id] = item;
    this.changed(collection);
    this.emit({ kind: 'add', resource, account, item, bulk });
    return item;
  }

  /** Replaces the value of a live item; undefined when there is none. */
  update(resource: DataResource, account: string, id: string, make: (previous: Record<string, unknown>, context: MutationContext) => Record<string, unknown>): DataItem | undefined {
    const collection = this.collection(resource, account);
    const item = collection.items[id];
    if (!item || item.deleted) return undefined;
    const previous = item.value;
    const seq = this.nextSeq(resource, account, collection);
    const now = this.store.now();
    item.value = make(previous, { seq, now });
    item.seq = seq;
    item.at = now;
    this.changed(collection);
    this.emit({ kind: 'update', resource, account, item, previous, bulk: false });
    return item;
  }

  /** Turns a live item into a tombstone; undefined when there is none. */
  remove(resource: DataResource, account: string, id: string): DataItem | undefined {
    const collection = this.collection(resource, account);
    const item = collection.items[id];
    if (!item || item.deleted) return undefined;
    item.seq = this.nextSeq(resource, account, collection);
    item.at = this.store.now();
    item.deleted = true;
    this.changed(collection);
    this.emit({ kind: 'delete', resource, account, item, previous: item.value, bulk: false });
    return item;
  }

  /**
   * Every cursor of the collection taken so far becomes invalid (the sequence
   * moves on, so cursors taken after this are valid).
   */
  invalidate(resource: DataResource, account: string): void {
    const collection = this.collection(resource, account);
    collection.floor = this.nextSeq(resource, account, collection);
    this.changed(collection);
  }

  // --- listings ---

  /**
   * A page of a full listing in creation order, after the creation sequence
   * `position` (before it when `descending`), with `filter` applied.
   */
  pageByCreation(
    resource: DataResource,
    account: string,
    input: { position: number | undefined; size: number; descending?: boolean; filter?: (item: DataItem) => boolean },
  ): Page {
    const collection = this.collection(resource, account);
    this.prune(collection);
    const ordered = this.view(collection).byCreated;
    const filter = input.filter ?? ((item: DataItem) => !item.deleted);
    const items: DataItem[] = [];
    if (input.descending) {
      const start = input.position === undefined ? ordered.length - 1 : firstAfter(ordered, input.position - 1, (item) => item.created) - 1;
      for (let index = start; index >= 0; index -= 1) {
        const item = ordered[index];
        if (item === undefined || !filter(item)) continue;
        if (items.length === input.size) return { items, more: true };
        items.push(item);
      }
      return { items, more: false };
    }
    const start = input.position === undefined ? 0 : firstAfter(ordered, input.position, (item) => item.created);
    for (let index = start; index < ordered.length; index += 1) {
      const item = ordered[index];
      if (item === undefined || !filter(item)) continue;
      if (items.length === input.size) return { items, more: true };
      items.push(item);
    }
    return { items, more: false };
  }

  /** A page of the changes after sequence `after`, oldest change first, tombstones included. */
  pageOfChanges(resource: DataResource, account: string, input: { after: number; size: number; filter?: (item: DataItem) => boolean }): Page {
    const collection = this.collection(resource, account);
    this.prune(collection);
    const ordered = this.view(collection).bySeq;
    const items: DataItem[] = [];
    for (let index = firstAfter(ordered, input.after, (item) => item.seq); index < ordered.length; index += 1) {
      const item = ordered[index];
      if (item === undefined || (input.filter && !input.filter(item))) continue;
      if (items.length === input.size) return { items, more: true };
      items.push(item);
    }
    return { items, more: false };
  }

  private emit(change: DataChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

// --- opaque tokens ---

/** An opaque token: base64url JSON (the client must not read it; the fakes do). */
export function encodeToken(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodeToken<S extends z.ZodType>(raw: string, schema: S): z.infer<S> | undefined {
  if (!/^[A-Za-z0-9_-]{1,4096}$/.test(raw)) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A page size from a query value: the default when absent, the cap when larger; undefined when not a positive integer. */
export function pageSize(raw: string | null | undefined, defaults: { default: number; max: number }): number | undefined {
  if (raw === null || raw === undefined || raw === '') return defaults.default;
  if (!/^\d{1,9}$/.test(raw.trim())) return undefined;
  const value = Number(raw.trim());
  if (value < 1) return undefined;
  return Math.min(value, defaults.max);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `base` with `patch` merged in: plain objects merge key by key, anything else (arrays too) replaces. */
export function mergeDeep(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const previous = out[key];
    out[key] = isPlainObject(previous) && isPlainObject(value) ? mergeDeep(previous, value) : value;
  }
  return out;
}
