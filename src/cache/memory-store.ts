import { LRUCache } from 'lru-cache';
import type { Tag } from '../writes/tags.js';
import { INVALIDATION_MEMORY_MS, outlivedMemory, type CachedAnswer, type ResponseCache } from './response-cache.js';

export interface InMemoryStoreOptions {
  /** Bytes of answer bodies kept; the least recently used answers go first. Default: 64 MiB. */
  maxBytes?: number;
  /** Tags whose invalidation time is remembered (see InvalidationPoint). Default: 100,000. */
  maxRememberedTags?: number;
}

interface Entry {
  answer: CachedAnswer;
  tags: readonly Tag[];
}

/**
 * A store inside this process, for the embedded default (no REDIS_URL): an
 * LRU bounded by bytes, and a tag → keys index that forgets a key when its
 * entry leaves the LRU (evicted, expired or dropped). Only this instance sees
 * it: writes made through another instance do not invalidate it.
 */
export function createInMemoryStore(options: InMemoryStoreOptions = {}): ResponseCache {
  const keysByTag = new Map<Tag, Set<string>>();
  const entries = new LRUCache<string, Entry>({
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (entry) => entry.answer.gzipped.length + 1,
    dispose: (entry, key) => {
      for (const tag of entry.tags) {
        const keys = keysByTag.get(tag);
        keys?.delete(key);
        if (keys?.size === 0) keysByTag.delete(tag);
      }
    },
  });

  let epoch = 0;
  // Answers looked up before `forgottenBefore` are refused: a tag's
  // invalidation that would have refused them may have been evicted.
  let forgottenBefore = 0;
  const invalidatedAt = new LRUCache<Tag, number>({
    max: options.maxRememberedTags ?? 100_000,
    ttl: INVALIDATION_MEMORY_MS,
    dispose: (at, _tag, reason) => {
      if (reason === 'evict') forgottenBefore = Math.max(forgottenBefore, at);
    },
  });

  return {
    async get(key) {
      return { answer: entries.get(key)?.answer, since: { epoch, at: Date.now() } };
    },

    async set(key, answer, tags, since) {
      if (outlivedMemory(since) || since.epoch < forgottenBefore) return false;
      for (const tag of tags) if ((invalidatedAt.get(tag) ?? 0) > since.epoch) return false;
      const ttl = answer.maxAge * 1000 - (Date.now() - answer.storedAt);
      if (ttl <= 0) return false;
      entries.set(key, { answer, tags }, { ttl });
      // An answer larger than the whole store is refused by the LRU.
      if (!entries.has(key)) return false;
      for (const tag of tags) {
        let keys = keysByTag.get(tag);
        if (!keys) keysByTag.set(tag, (keys = new Set()));
        keys.add(key);
      }
      return true;
    },

    async invalidate(tags) {
      epoch += 1;
      let dropped = 0;
      for (const tag of tags) {
        invalidatedAt.set(tag, epoch);
        for (const key of [...(keysByTag.get(tag) ?? [])]) if (entries.delete(key)) dropped += 1;
        keysByTag.delete(tag);
      }
      return dropped;
    },
  };
}
