import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../db/clock.js';
import type { Tag } from '../writes/tags.js';
import { INVALIDATION_MEMORY_MS, unchangedSince, type CachedAnswer, type InvalidationHistory, type ResponseCache } from './response-cache.js';

export interface InMemoryStoreOptions {
  /** Bytes kept, counted by entrySize; the least recently used answers go first. Default: 64 MiB. */
  maxBytes?: number;
  /** Tags whose invalidation time is remembered (see InvalidationPoint). Default: 100,000. */
  maxRememberedTags?: number;
  /**
   * The time answers are aged by and expire on, and invalidations are
   * remembered for (db/clock.ts). Default: Date.now() for ages, and the
   * LRU's own monotonic clock for expiry (a wall clock set back does not
   * keep answers longer).
   */
  clock?: Clock;
}

interface Entry {
  answer: CachedAnswer;
  tags: readonly Tag[];
}

// What an entry costs in the heap besides its body, measured on Node 20
// with --expose-gc (200 answers of 1,150 tags such as `Message:1000123`):
// an answer with no tags, 0.7 KiB (its key, the entry, the Buffer object,
// the LRU's bookkeeping); each tag, 68 B when many answers share it, 97 B
// when it is the answer's alone, 138 B when two answers share it (its
// string, its slot in `tags`, the index's map entry or set member). The
// index keeps a tag's only key without a set, or an unshared tag would
// cost 249 B. Counting only the bodies, the reference inbox (53 KB
// gzipped, some 1,150 tags) took 2.5 to 4 times what it counted.
const ENTRY_BYTES = 768;
const TAG_BYTES = 128;

/** The bytes an answer and its tags are counted for against maxBytes: at least what they take in the heap. */
export function entrySize(answer: CachedAnswer, tags: readonly Tag[]): number {
  let size = ENTRY_BYTES + answer.gzipped.length;
  for (const tag of tags) size += TAG_BYTES + tag.length;
  return size;
}

/**
 * A store inside this process, for the embedded default (no REDIS_URL): an
 * LRU bounded by bytes (answers and their tags), and a tag → keys index that forgets a key when its
 * entry leaves the LRU (evicted, expired or dropped). Only this instance sees
 * it: writes made through another instance do not invalidate it.
 */
export function createInMemoryStore(options: InMemoryStoreOptions = {}): ResponseCache & InvalidationHistory {
  const now = options.clock ?? Date.now;
  // A given clock also decides expiry, read at every check (no resolution: the LRU would cache a reading for 1 ms of real time).
  const expiry = options.clock ? { perf: { now: options.clock }, ttlResolution: 0 } : {};
  // A tag held by one answer maps to its key, by several to a set of them.
  const keysByTag = new Map<Tag, string | Set<string>>();
  const entries = new LRUCache<string, Entry>({
    ...expiry,
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (entry) => entrySize(entry.answer, entry.tags),
    dispose: (entry, key) => {
      for (const tag of entry.tags) {
        const keys = keysByTag.get(tag);
        if (keys === key) keysByTag.delete(tag);
        else if (typeof keys === 'object') {
          keys.delete(key);
          if (keys.size === 0) keysByTag.delete(tag);
        }
      }
    },
  });

  let epoch = 0;
  // One history for the life of the store.
  const history = randomUUID();
  // Answers looked up before `forgottenBefore` are refused: a tag's
  // invalidation that would have refused them may have been evicted.
  let forgottenBefore = 0;
  const invalidatedAt = new LRUCache<Tag, number>({
    ...expiry,
    max: options.maxRememberedTags ?? 100_000,
    ttl: INVALIDATION_MEMORY_MS,
    dispose: (at, _tag, reason) => {
      if (reason === 'evict') forgottenBefore = Math.max(forgottenBefore, at);
    },
  });

  const lastInvalidations = (tags: readonly Tag[]) => tags.map((tag) => invalidatedAt.get(tag) ?? 0);

  return {
    async get(key) {
      return { answer: entries.get(key)?.answer, since: { epoch, at: now() } };
    },

    // A tag whose invalidation was forgotten early (evicted) raised forgottenBefore: the floor.
    async invalidations(tags) {
      return { history, now: { epoch, at: now() }, floor: forgottenBefore, invalidatedAt: lastInvalidations(tags) };
    },

    async set(key, answer, tags, since) {
      if (!unchangedSince(since, forgottenBefore, tags, invalidatedAt, now())) return false;
      const ttl = answer.maxAge * 1000 - (now() - answer.storedAt);
      if (ttl <= 0) return false;
      entries.set(key, { answer, tags }, { ttl });
      // An answer larger than the whole store is refused by the LRU.
      if (!entries.has(key)) return false;
      for (const tag of tags) {
        const keys = keysByTag.get(tag);
        if (keys === undefined || keys === key) keysByTag.set(tag, key);
        else if (typeof keys === 'string') keysByTag.set(tag, new Set([keys, key]));
        else keys.add(key);
      }
      return true;
    },

    async invalidate(tags) {
      epoch += 1;
      let dropped = 0;
      for (const tag of tags) {
        invalidatedAt.set(tag, epoch);
        const keys = keysByTag.get(tag);
        for (const key of typeof keys === 'string' ? [keys] : [...(keys ?? [])]) if (entries.delete(key)) dropped += 1;
        keysByTag.delete(tag);
      }
      return dropped;
    },
  };
}
