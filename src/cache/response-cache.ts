import type { CacheScope } from '../graphql/cache-policy.js';
import type { Tag } from '../writes/tags.js';

/**
 * The store of whole answers, behind one small interface with two
 * implementations: Redis (redis-store.ts), shared by every instance, and an
 * in-process LRU (memory-store.ts) when no Redis is configured. Stores may
 * throw (Redis down, a command timed out): failOpen (fail-open.ts) turns that
 * into a miss, so no request fails because of the cache.
 */

/** What the headers of an answer need. */
export interface AnswerMeta {
  /** When it was computed, in ms since the Unix epoch: the `age` header counts from here. */
  storedAt: number;
  /** Its TTL in seconds: the smallest maxAge of what it includes. */
  maxAge: number;
  /** PRIVATE: stored for one viewer only, and sent as `cache-control: private`. */
  scope: CacheScope;
}

/** One stored answer: the bytes the client receives, and what its headers need. */
export interface CachedAnswer extends AnswerMeta {
  /**
   * The response body as Apollo Server writes it (`{"data":…}` and a
   * newline), gzip-compressed: JSON answers shrink about 6× (the reference
   * inbox, 352 KB, to 53 KB), so the store holds 6× as many, a hit moves 6×
   * fewer bytes out of Redis, and clients that accept gzip get them as they are.
   */
  gzipped: Buffer;
}

/**
 * Where in the store's history of invalidations a lookup was made. An answer
 * computed after the lookup is stored only if none of its tags was
 * invalidated since: a write that committed while it was computed may be
 * missing from it, and storing it would serve that stale answer after the
 * write. Stores remember invalidations for INVALIDATION_MEMORY_MS; an answer
 * whose lookup is older is not stored.
 */
export interface InvalidationPoint {
  /** The store's count of invalidations at the lookup. */
  epoch: number;
  /** The lookup's time, by the store's clock. */
  at: number;
}

/** How long stores remember which tags were invalidated when (see InvalidationPoint). */
export const INVALIDATION_MEMORY_MS = 60_000;

/** True when a lookup is too old for a store to tell which invalidations followed it. */
export function outlivedMemory(since: InvalidationPoint, now: number): boolean {
  // Half the memory: a margin for clock steps and slow stores.
  return now - since.at > INVALIDATION_MEMORY_MS / 2;
}

/**
 * Whether nothing read at `since` can have changed by `now`: the floor is
 * not above it, and none of its tags was invalidated after it (the rule
 * STORE_SCRIPT applies in Redis, redis-store.ts), and the store still
 * remembers that far back.
 * @param floor the store's floor (redis-store.ts), 0 where it has none
 * @param tags the tags of what was read
 * @param invalidatedAt each tag's count at its last invalidation the store remembers (none: 0)
 */
export function unchangedSince(
  since: InvalidationPoint,
  floor: number,
  tags: Iterable<Tag>,
  invalidatedAt: { get(tag: Tag): number | undefined },
  now: number,
): boolean {
  if (outlivedMemory(since, now) || floor > since.epoch) return false;
  for (const tag of tags) if ((invalidatedAt.get(tag) ?? 0) > since.epoch) return false;
  return true;
}

/** Where a store's history of invalidations stands, as one round trip read it. */
export interface InvalidationState {
  /**
   * Which history it is: a Redis that lost its data (restarted without
   * persistence, flushed) starts counting again from 0, and its counts mean
   * nothing against those read before. Points of different histories are
   * not comparable. Undefined when the store has none yet (it makes one).
   */
  history: string | undefined;
  /** The point of the read: what is read from the database after it may be kept with it as its `since`. */
  now: InvalidationPoint;
  /** What was read at a point below this count is void (a lost invalidation raised it); 0 when never raised. */
  floor: number;
  /** For each tag asked about, in order, the count at its last invalidation the store remembers; 0 when none. */
  invalidatedAt: number[];
}

/**
 * The store's history of invalidations, for what is kept outside it (the
 * loader cache, loader-cache.ts): the same counts, floor and recovery from
 * lost invalidations that guard the store's own answers.
 */
export interface InvalidationHistory {
  /**
   * Reads, in one round trip, where the history stands and the last
   * invalidation of each of `tags`. Throws when the store failed or was late.
   */
  invalidations(tags: readonly Tag[]): Promise<InvalidationState>;
}

/** What a lookup found, and when it was made. */
export interface CacheLookup {
  /** The answer, when one is stored and fresh. */
  answer: CachedAnswer | undefined;
  /** Pass it to `set` when storing the answer computed after this miss; undefined when the store could not tell (then nothing is stored). */
  since: InvalidationPoint | undefined;
}

export interface ResponseCache {
  /**
   * Looks up an answer.
   * @param key the answer's key (cache-key.ts: schema, document, operation, variables and scope, hashed)
   * @returns the answer if one is stored and fresh, and the invalidation point to pass to `set`
   */
  get(key: string): Promise<CacheLookup>;

  /**
   * Stores an answer for `answer.maxAge` seconds, unless one of its tags was
   * invalidated after `since` (or `since` is older than the store remembers).
   * @param key the key the answer was looked up under
   * @param answer the answer and its TTL
   * @param tags the entity tags (`Conversation:12`) and list tags (`Inbox:7`) of what it contains: invalidating any drops it
   * @param since the `since` of the lookup made before the answer was computed
   * @returns whether it was stored
   */
  set(key: string, answer: CachedAnswer, tags: readonly Tag[], since: InvalidationPoint): Promise<boolean>;

  /**
   * Drops every answer stored under any of `tags`, for every instance that
   * shares the store, and refuses answers computed before this call that
   * carry one of them.
   * @param tags what a write (or a refresh of the statistics) changed
   * @returns how many stored answers were dropped
   */
  invalidate(tags: readonly Tag[]): Promise<number>;
}
