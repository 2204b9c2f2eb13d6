import { LRUCache } from 'lru-cache';
import type { Clock } from '../db/clock.js';
import { createOutageLog } from '../db/redis.js';
import type { Tag } from '../writes/tags.js';
import {
  outlivedMemory,
  unchangedSince,
  type InvalidationHistory,
  type InvalidationPoint,
  type InvalidationState,
  type ResponseCache,
} from './response-cache.js';

/**
 * The loader cache: what the loaders read from the database (a user, a
 * conversation's page of messages, its participants…), kept across requests
 * in this process, so that an answer the response cache dropped is rebuilt
 * from the database's rows that changed and this cache's that did not.
 *
 * Each value is kept with the tags of what it holds (the response cache's
 * vocabulary, writes/tags.ts) and the point of the store's history of
 * invalidations it was read at (InvalidationPoint). Before a value is used,
 * the store tells, in one round trip shared by every lookup of the same
 * tick (a DataLoader wave: every loader of one depth of the query), whether
 * the floor or one of its tags moved past that point; the same counts,
 * floor and recovery from lost invalidations that guard the response
 * cache's answers, on every instance sharing the store. A value that
 * changed is dropped; one that did not is kept with the new point, so a
 * value in use stays checkable however long it lives (the store remembers
 * invalidations for INVALIDATION_MEMORY_MS only).
 *
 * Why in the process, not in Redis beside the answers: a lookup moves the
 * tags' counts (a few bytes each) instead of the values (a page of 20
 * messages is some 5 KB), a value read from the database is kept without a
 * command, and nothing is parsed on a hit. The cost: each instance fills
 * its own.
 *
 * Fail-open: when the store fails or is late (its own deadline, 50 ms in
 * Redis), nothing is found and nothing is kept for the rest of the request,
 * whose loaders read the database.
 */

export interface LoaderCacheOptions {
  /** The response cache's store (redis-store.ts or memory-store.ts), the same object: its invalidations are this cache's. */
  store: InvalidationHistory & Pick<ResponseCache, 'invalidate'>;
  /** Where an outage of the store is logged, once at its start and once at its end. */
  logger: { warn(details: object, message: string): void; info(message: string): void };
  /** Bytes the values may take, estimated (entrySize); the least recently used go first. Default: 64 MiB. */
  maxBytes?: number;
  /**
   * How long a value is kept at most, in ms, however often it is checked:
   * a write made behind the API's back (SQL by hand) drops nothing, and then
   * shows within this, as in the response cache within an answer's maxAge.
   * Default: 60,000, the shortest maxAge of users, conversations and messages.
   */
  ttlMs?: number;
  /** What points are aged by (outlivedMemory) and values expire on: the store's clock (db/clock.ts). Default: Date.now(). */
  clock?: Clock;
}

/** What the loader cache did since the process started: read by /metrics at each scrape. */
export interface LoaderCacheCounters {
  /** Keys answered from the cache, by loader. */
  readonly hits: Map<string, number>;
  /** Keys read from the database, by loader (including when the store could not be asked). */
  readonly misses: Map<string, number>;
  /** Round trips to the store to check values (one per wave of lookups). */
  checks: number;
  /** Values a check found changed, and dropped. */
  changed: number;
  /** Checks and invalidations that failed or were late (the requests read the database). */
  errors: number;
  /** Estimated bytes of the values kept now. */
  readonly bytes: number;
  /** Values kept now. */
  readonly entries: number;
}

/** What a lookup found. */
export interface LoaderCacheLookup {
  /** The values kept under the keys looked up, and under the keys those refer to, that no write changed since they were read. */
  readonly values: ReadonlyMap<string, unknown>;
  /**
   * Keeps a value read from the database after this lookup; nothing when the
   * lookup could not check (the store failed).
   * @param key the key it is looked up by: for anything read for a viewer, the viewer is part of it
   * @param tags what it holds, as writes name it: a write touching one drops it
   * @param refs keys of other values it is used with (its users): a lookup that finds it also finds those that are unchanged
   */
  keep(key: string, value: unknown, tags: readonly Tag[], refs?: readonly string[]): void;
}

/** One request's way to the loader cache. */
export interface RequestLoaderCache {
  /**
   * The values kept under `keys` (and their refs) that are unchanged. Never
   * throws.
   * @param loader the loader asking, for the counters
   */
  lookup(loader: string, keys: readonly string[]): Promise<LoaderCacheLookup>;
}

/** A point in one history of the store's invalidations (InvalidationState.history). */
interface Checkpoint extends InvalidationPoint {
  history: string;
}

interface Entry {
  value: unknown;
  tags: readonly Tag[];
  refs: readonly string[];
  size: number;
  /** The point it was read at, or last found unchanged at. */
  checked: Checkpoint;
}

/** What a check read: where the store stands, and the last invalidation of each tag asked about. */
interface Checked {
  state: InvalidationState;
  invalidatedAt: ReadonlyMap<Tag, number>;
}

// What an entry costs in the heap besides its value: the key, the entry,
// its tags' array, the LRU's bookkeeping; each tag, its string (built for
// the entry) and its slot. Measured on Node 20 with --expose-gc, counted
// against taken: a page of 21 messages with its 22 tags 7.8 KB against
// 7.6 KB, a user 0.91 KB against 0.87 KB, an unread count 0.59 KB against
// 0.43 KB: never less than it takes. A page now has one tag, and keeps its
// rows twice (as kept, and as last restored, with their authors: see
// modules/cached-batch.ts): 12.5 KB counted against 9.7 KB taken, 2,000
// such pages made alike (the rows without the restored copy: 6.3 against
// 7.7 KB, which no entry is).
const ENTRY_BYTES = 400;
const TAG_BYTES = 48;

/** Bytes a value takes in the heap, about: strings, dates, arrays and objects walked, each object once (an author many messages share). */
function approximateBytes(value: unknown, seen = new Set<object>()): number {
  if (typeof value === 'string') return 24 + value.length;
  if (typeof value === 'number') return 16;
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  if (value instanceof Date) return 48;
  if (Array.isArray(value)) {
    let size = 32 + 8 * value.length;
    for (const item of value) size += approximateBytes(item, seen);
    return size;
  }
  let size = 32;
  for (const key in value) size += 8 + approximateBytes((value as Record<string, unknown>)[key], seen);
  return size;
}

/** The bytes an entry is counted for against maxBytes. */
export function entrySize(key: string, value: unknown, tags: readonly Tag[], refs: readonly string[]): number {
  let size = ENTRY_BYTES + key.length + approximateBytes(value);
  for (const tag of tags) size += TAG_BYTES + tag.length;
  for (const ref of refs) size += 8 + ref.length;
  return size;
}

/** Whether every tag has a reading in `known`. */
function allKnown(tags: ReadonlySet<Tag>, known: ReadonlyMap<Tag, number>): boolean {
  for (const tag of tags) if (!known.has(tag)) return false;
  return true;
}

export function createLoaderCache({ store, logger, maxBytes = 64 * 1024 * 1024, ttlMs = 60_000, clock }: LoaderCacheOptions) {
  const now = clock ?? Date.now;
  // A given clock also decides expiry, read at every check (as memory-store.ts does).
  const expiry = clock ? { perf: { now: clock }, ttlResolution: 0 } : {};
  const entries = new LRUCache<string, Entry>({ ...expiry, maxSize: maxBytes, sizeCalculation: (entry) => entry.size, ttl: ttlMs });

  const hits = new Map<string, number>();
  const misses = new Map<string, number>();
  const counters: LoaderCacheCounters = {
    hits,
    misses,
    checks: 0,
    changed: 0,
    errors: 0,
    get bytes() {
      return entries.calculatedSize;
    },
    get entries() {
      return entries.size;
    },
  };
  const count = (counts: Map<string, number>, loader: string, keys: number) => {
    if (keys > 0) counts.set(loader, (counts.get(loader) ?? 0) + keys);
  };
  const { failed, succeeded } = createOutageLog(
    logger,
    { down: 'loader cache unavailable: loaders read the database until it is back', up: 'loader cache available again' },
    () => (counters.errors += 1),
  );

  // The tags of every lookup made in this tick, checked in one round trip
  // when the tick's work is done: the loaders of one wave dispatch their
  // batches in the same tick, on every request of this instance.
  let pending: { tags: Set<Tag>; checked: Promise<Checked | undefined> } | undefined;
  const check = (tags: Iterable<Tag>): Promise<Checked | undefined> => {
    if (!pending) {
      const next = { tags: new Set<Tag>(), checked: undefined as unknown as Promise<Checked | undefined> };
      next.checked = new Promise((resolve) => process.nextTick(resolve)).then(async () => {
        if (pending === next) pending = undefined;
        const asked = [...next.tags];
        counters.checks += 1;
        try {
          const state = await store.invalidations(asked);
          succeeded();
          const invalidatedAt = new Map<Tag, number>();
          for (const [index, tag] of asked.entries()) invalidatedAt.set(tag, state.invalidatedAt[index]!);
          return { state, invalidatedAt };
        } catch (error) {
          failed(error, 'check');
          return undefined;
        }
      });
      pending = next;
    }
    for (const tag of tags) pending.tags.add(tag);
    return pending.checked;
  };

  /**
   * Whether an entry is unchanged at `point`, by the floor and its tags'
   * last invalidations read there; if so, and `renew`, it carries that point
   * from now on; if not, it is dropped. Counts of another history, or below
   * the entry's own (the store lost some), say nothing: dropped.
   */
  const stillValid = (key: string, entry: Entry, point: Checkpoint, floor: number, invalidatedAt: ReadonlyMap<Tag, number>, renew: boolean): boolean => {
    const { epoch, at, history } = entry.checked;
    if (history === point.history && point.epoch >= epoch && unchangedSince(entry.checked, floor, entry.tags, invalidatedAt, now())) {
      if (renew && (point.epoch > epoch || point.at > at)) entry.checked = point;
      return true;
    }
    // Unless another request kept a newer one meanwhile.
    if (entries.peek(key) === entry) entries.delete(key);
    counters.changed += 1;
    return false;
  };

  return {
    counters,

    /**
     * A fresh way in for one request: what its checks read, and whether the
     * store failed it.
     *
     * What a request has read of the store's history serves its later
     * lookups: entries whose tags were all read by earlier checks of the
     * request are judged by those readings, with no round trip (the
     * authors' statistics, after the viewer's: `Stats`). They are then
     * current as of a check made after the request began: any write that
     * returned before it began is in them, as in an answer the response
     * cache finds at the request's start.
     * @param options.routedReads where the request's reads are routed between the primary and read replicas
     *   (db/read-routing.ts): its target is chosen once, at its first read, by the writes known then, and a value
     *   read after a later check may lack a write that check saw invalidated. So what is read is kept with the
     *   point of the request's first check, and only when that check was read before the request's first read;
     *   nothing, once a read came from a replica behind the last write. Default: none (every read on the primary).
     */
    forRequest({ routedReads }: { routedReads?: { readonly storable: boolean; readonly reading: boolean } } = {}): RequestLoaderCache {
      let latest: Checkpoint | undefined;
      let bypassed = false;
      // Each tag's last invalidation, and the floor, as this request's checks read them.
      const known = new Map<Tag, number>();
      let floor = 0;
      // With routed reads: the point of the request's first check, if it came before the first read.
      let first: { point: Checkpoint | undefined } | undefined;
      // What is read after a lookup is kept with that lookup's point, never a later one: a
      // write whose invalidation came in between may be missing from it.
      const lookupOf = (values: ReadonlyMap<string, unknown>, since: Checkpoint | undefined): LoaderCacheLookup => ({
        values,
        keep(key, value, tags, refs = []) {
          const checked = since && routedReads ? (routedReads.storable ? first?.point : undefined) : since;
          if (checked) entries.set(key, { value, tags, refs, size: entrySize(key, value, tags, refs), checked });
        },
      });

      return {
        async lookup(loader, keys) {
          const values = new Map<string, unknown>();
          const found = new Map<string, Entry>();
          const tags = new Set<Tag>();
          if (!bypassed) {
            for (const key of keys) {
              const entry = entries.get(key);
              if (!entry) continue;
              found.set(key, entry);
              for (const ref of entry.refs) {
                const referred = found.has(ref) ? undefined : entries.get(ref);
                if (referred) found.set(ref, referred);
              }
            }
            for (const entry of found.values()) for (const tag of entry.tags) tags.add(tag);
          }
          let since = latest;
          if (bypassed) {
            since = undefined;
          } else if (latest && !outlivedMemory(latest, now()) && allKnown(tags, known)) {
            // Nothing this request has not read already (or nothing found): no round trip. An entry kept
            // after the request's last check cannot be judged by it: left alone, and read again.
            for (const [key, entry] of found) {
              if (entry.checked.epoch <= latest.epoch && stillValid(key, entry, latest, floor, known, false)) values.set(key, entry.value);
            }
          } else {
            const checked = await check(tags);
            if (checked) {
              // An unnamed history (Redis lost its data a moment ago): nothing is found, and nothing kept.
              const { history, now: point } = checked.state;
              since = latest = history === undefined ? undefined : { ...point, history };
              first ??= { point: routedReads?.reading ? undefined : since };
              floor = checked.state.floor;
              for (const tag of tags) known.set(tag, checked.invalidatedAt.get(tag)!);
              if (since) for (const [key, entry] of found) if (stillValid(key, entry, since, floor, checked.invalidatedAt, true)) values.set(key, entry.value);
            } else {
              // Nothing this request reads from now on is kept: the store could not say what it missed.
              bypassed = true;
              since = undefined;
            }
          }
          let hit = 0;
          for (const key of keys) if (values.has(key)) hit += 1;
          count(hits, loader, hit);
          count(misses, loader, keys.length - hit);
          return lookupOf(values, since);
        },
      };
    },

    /**
     * Drops, on every instance sharing the store, what carries one of `tags`
     * (what the writer's after-commit step calls when the response cache is
     * off; otherwise the response cache's invalidation does it). Never throws.
     */
    async invalidate(tags: readonly Tag[]): Promise<void> {
      if (tags.length === 0) return;
      try {
        await store.invalidate(tags);
        succeeded();
      } catch (error) {
        failed(error, 'invalidate');
      }
    },
  };
}

export type LoaderCache = ReturnType<typeof createLoaderCache>;
