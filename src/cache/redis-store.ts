import { randomUUID } from 'node:crypto';
import type { Result } from 'ioredis';
import type { Clock } from '../db/clock.js';
import { withinDeadline, type Redis } from '../db/redis.js';
import type { Tag } from '../writes/tags.js';
import { INVALIDATION_MEMORY_MS, outlivedMemory, type CachedAnswer, type InvalidationHistory, type ResponseCache } from './response-cache.js';

export interface RedisStoreOptions {
  /** The process's client (db/redis.ts). The store never closes it. */
  redis: Redis;
  /** Prepended to the store's keys. Default: `parley:cache:`. */
  namespace?: string;
  /** Milliseconds a lookup or a store waits for Redis before the cache gives up on it (fail-open). Default: 50. */
  deadlineMs?: number;
  /**
   * Milliseconds each command of an invalidation may take before the
   * invalidation counts as lost (then every answer is voided, see
   * RAISE_FLOOR_SCRIPT). Default: 1,000, the client's commandTimeout.
   */
  invalidationTimeoutMs?: number;
  /** The time answers are aged by, before Redis is given what is left of their TTL (db/clock.ts); Redis expires them by its own. Default: Date.now(). */
  clock?: Clock;
}

// Both scripts run atomically in Redis, so a store and an invalidation of
// the same tag never interleave: either the answer is in the tag's set
// before the invalidation takes the set away, or the store sees the
// invalidation and refuses the answer.
//
// A tag is a sorted set of the keys of its answers, each scored with the
// time its answer expires, and a store prunes the members whose answer has
// expired: a tag read often but rarely written lists only live answers,
// however long the traffic lasts. As plain sets, such tags kept every
// answer ever stored under them (3,000 members where some 450 answers were
// alive, after 6 s of answers living 1 s; 500 now), and their invalidation
// dropped them all in one script. The time is Redis's (TIME), the clock
// that expires the answers: with each instance's own clock, one running
// ahead would prune live answers from a tag, and a write would not drop them.

/**
 * KEYS: the answer, the floor, then n "invalidated at" keys and n tags.
 * ARGV: the value, its TTL in ms, the lookup's epoch, n, the answer's key as tags list it.
 * Stores the answer and adds it to each tag, whose TTL grows to cover it
 * (a tag expires with the last answer it lists), unless the floor or one of
 * its tags was invalidated after the lookup.
 */
const STORE_SCRIPT = `
local since = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local floor = redis.call('GET', KEYS[2])
if floor and tonumber(floor) > since then return 0 end
for i = 3, n + 2 do
  local at = redis.call('GET', KEYS[i])
  if at and tonumber(at) > since then return 0 end
end
local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expired = string.format('(%d', now)
local expires = string.format('%d', now + ttl)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = n + 3, 2 * n + 2 do
  local left = redis.call('PTTL', KEYS[i])
  redis.call('ZADD', KEYS[i], expires, ARGV[5])
  -- After the ZADD, so the tag keeps a member (this answer) and its TTL.
  if left > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', expired) end
  if left < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`;

/**
 * KEYS: the epoch, then n "invalidated at" keys, n tags, n keys of this
 * invalidation's own to move the tags to, and n "draining" sets, one per tag.
 * ARGV: how long to remember the invalidation (ms), n.
 * Counts one more invalidation, records it against each tag, and moves each
 * tag aside (RENAME: O(1), its TTL kept), listing it in the tag's draining
 * set, for the caller to drop the answers it lists a slice at a time
 * (DRAIN_SCRIPT). Returns every tag moved aside whose answers are not all
 * dropped yet, this invalidation's and those of others still at work, each
 * followed by its draining set: the caller drops them all, so it returns
 * only once no answer carrying one of its tags is left, even when another
 * invalidation moved that tag aside just before and has not finished.
 * Answers stored from now on go to new tags.
 */
const INVALIDATE_SCRIPT = `
local epoch = redis.call('INCR', KEYS[1])
local n = tonumber(ARGV[2])
for i = 2, n + 1 do redis.call('SET', KEYS[i], epoch, 'PX', ARGV[1]) end
local pending = {}
for i = 1, n do
  local tag, drain, draining = KEYS[n + 1 + i], KEYS[2 * n + 1 + i], KEYS[3 * n + 1 + i]
  if redis.call('EXISTS', tag) == 1 then
    redis.call('RENAME', tag, drain)
    redis.call('SADD', draining, drain)
    -- The set lives as long as the tags it lists could.
    local ttl = redis.call('PTTL', drain)
    if ttl > 0 and ttl > redis.call('PTTL', draining) then redis.call('PEXPIRE', draining, ttl) end
  end
  for _, moved in ipairs(redis.call('SMEMBERS', draining)) do
    pending[#pending + 1] = moved
    pending[#pending + 1] = draining
  end
end
return pending
`;

/**
 * KEYS: a tag moved aside, its draining set. ARGV: how many answers at
 * most, the prefix of answers' keys (the members are their short keys).
 * Drops that many of the answers it lists, in the same step as it takes
 * them off: once the tag moved aside is gone, so is every answer it listed,
 * whoever dropped them; then it is taken off the draining set. Returns the
 * answers dropped, and 1 while some are left.
 */
const DRAIN_SCRIPT = `
local members = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
local dropped = 0
for i = 1, #members, 2 do dropped = dropped + redis.call('UNLINK', ARGV[2] .. members[i]) end
local left = redis.call('EXISTS', KEYS[1])
if left == 0 then redis.call('SREM', KEYS[2], KEYS[1]) end
return { dropped, left }
`;

/** How long the instance that lost an invalidation waits between attempts to raise the floor, unless its client reconnects first. */
const FLOOR_RETRY_MS = 200;

/** Answers dropped per command of an invalidation: a tag of 100,000 answers blocks Redis for a few ms at a time, never for the whole of it. */
const DRAIN_SLICE = 1_000;

/**
 * KEYS: the epoch, the floor. After invalidations may have been lost (one
 * failed or timed out: Redis may or may not have run it), voids every answer
 * looked up before now: the floor rises to a new epoch, and answers carry
 * the epoch of their lookup.
 */
const RAISE_FLOOR_SCRIPT = `
local epoch = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], epoch)
return epoch
`;

/**
 * KEYS: the history's name, the epoch. ARGV: a new name.
 * Names the history of the epoch when it has none: a new one when the
 * epoch itself is missing (Redis lost it: counting starts over), else the
 * one being counted.
 */
const NAME_HISTORY_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], 0)
  redis.call('SET', KEYS[1], ARGV[1])
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** STORE_SCRIPT, defined by createRedisStore below (its keys vary in number, given first): 1 stored, 0 refused. */
    parleyCacheStore(numberOfKeys: number, ...keysAndArguments: (string | Buffer | number)[]): Result<number, Context>;
    /** INVALIDATE_SCRIPT, defined by createRedisStore below (its keys vary in number, given first): each tag moved aside and not yet dropped, then its draining set. */
    parleyCacheInvalidate(numberOfKeys: number, ...keysAndArguments: (string | number)[]): Result<string[], Context>;
    /** DRAIN_SCRIPT, defined by createRedisStore below: the answers dropped, and 1 while the tag moved aside lists more. */
    parleyCacheDrain(drainKey: string, drainingKey: string, slice: number, answerPrefix: string): Result<[number, number], Context>;
    /** RAISE_FLOOR_SCRIPT, defined by createRedisStore below: the new floor. */
    parleyCacheRaiseFloor(epochKey: string, floorKey: string): Result<number, Context>;
    /** NAME_HISTORY_SCRIPT, defined by createRedisStore below. */
    parleyCacheNameHistory(historyKey: string, epochKey: string, name: string): Result<number, Context>;
  }
}

const NEWLINE = 0x0a;

/** `storedAt maxAge scope epoch` then a newline, then the gzipped body. */
function encode(answer: CachedAnswer, epoch: number): Buffer {
  return Buffer.concat([Buffer.from(`${answer.storedAt} ${answer.maxAge} ${answer.scope} ${epoch}\n`, 'latin1'), answer.gzipped]);
}

function decode(value: Buffer): { answer: CachedAnswer; epoch: number } | undefined {
  const end = value.indexOf(NEWLINE);
  if (end < 0) return undefined;
  const [storedAt, maxAge, scope, epoch] = value.toString('latin1', 0, end).split(' ');
  if (scope !== 'PUBLIC' && scope !== 'PRIVATE') return undefined;
  return { answer: { storedAt: Number(storedAt), maxAge: Number(maxAge), scope, gzipped: value.subarray(end + 1) }, epoch: Number(epoch) };
}

/**
 * The store shared by every instance: answers as strings with a TTL, and for
 * each tag a sorted set of the keys of the answers that carry it. A lookup
 * is one MGET (the answer, the invalidation epoch, the floor); a store is
 * one script; an invalidation is one script, then slices of its tags'
 * answers dropped a command at a time.
 */
export function createRedisStore({
  redis,
  namespace = 'parley:cache:',
  deadlineMs = 50,
  invalidationTimeoutMs = 1_000,
  clock: now = Date.now,
}: RedisStoreOptions): ResponseCache & InvalidationHistory {
  // defineCommand: EVALSHA, and EVAL on a new connection or when Redis lost the script.
  redis.defineCommand('parleyCacheStore', { lua: STORE_SCRIPT });
  redis.defineCommand('parleyCacheInvalidate', { lua: INVALIDATE_SCRIPT });
  redis.defineCommand('parleyCacheDrain', { numberOfKeys: 2, lua: DRAIN_SCRIPT });
  redis.defineCommand('parleyCacheRaiseFloor', { numberOfKeys: 2, lua: RAISE_FLOOR_SCRIPT });
  redis.defineCommand('parleyCacheNameHistory', { numberOfKeys: 2, lua: NAME_HISTORY_SCRIPT });

  // The epoch, the floor and the invalidation times are shared with the
  // previous layout, whose instances keep counting and recording
  // invalidations during a rolling deploy. Answers and tags are under `v2:`:
  // the previous layout's tags are plain sets (a ZADD on one fails with
  // WRONGTYPE), and its answers are listed in those sets only, where this
  // layout's invalidations do not look.
  const epochKey = `${namespace}epoch`;
  const floorKey = `${namespace}floor`;
  // Named once per history of the epoch (see InvalidationState.history): it goes when the epoch goes.
  const historyKey = `${namespace}history`;
  const invalidatedKey = (tag: Tag) => `${namespace}invalidated:${tag}`;
  const answerKey = (key: string) => `${namespace}v2:answer:${key}`;
  const tagKey = (tag: Tag) => `${namespace}v2:tag:${tag}`;
  const drainKey = (invalidation: string, position: number) => `${namespace}v2:drain:${invalidation}:${position}`;
  const drainingKey = (tag: Tag) => `${namespace}v2:draining:${tag}`;
  // Scripts name keys as Redis knows them, the client's own prefix (ioredis's keyPrefix) included.
  const clientPrefix = redis.options.keyPrefix ?? '';
  const unprefixed = (name: string) => (name.startsWith(clientPrefix) ? name.slice(clientPrefix.length) : name);

  const soon = <T>(work: Promise<T>) => withinDeadline(work, deadlineMs, 'response cache');
  // An invalidation is waited for until Redis answers, not 50 ms: one that
  // is merely slow still runs, and counting it lost would void every answer
  // on every instance (at a Redis p95 of 41 ms, writes would often flush
  // the cache). The write's request waits with it, so that once it has
  // returned, no instance can be served an answer the write changed.
  const settled = <T>(work: Promise<T>) => withinDeadline(work, invalidationTimeoutMs, 'response cache invalidation');

  // A lost invalidation, and what is guaranteed after one.
  //
  // An invalidation is lost when Redis failed it or gave no reply within
  // invalidationTimeoutMs: the write returns all the same, and Redis may
  // have run it, may run it later (a paused Redis), or never (a cut
  // network). Only the floor can make up for it: every lookup, on every
  // instance, reads it in the same MGET as the answer (so it costs a hit no
  // round trip), and an answer whose lookup's epoch is below it is void.
  // The instance that lost the invalidation raises the floor
  // - at once, on the connection the invalidation went on: a Redis that is
  //   slow or paused runs the raise right behind the invalidation, before
  //   it answers anyone again;
  // - when that fails (Redis out of reach), again each time the client is
  //   ready again, or every FLOOR_RETRY_MS, until a raise succeeds;
  // - and meanwhile it serves and stores nothing: its lookups and stores
  //   raise the floor first, and fail (a miss) until one has.
  // So once Redis answers the instance that lost an invalidation again, no
  // instance serves an answer stored before the loss, nor stores one whose
  // lookup came before it. Before that, during the outage, another instance
  // that still reaches Redis may serve the old answer: nothing can tell it
  // of the write (for at most that answer's maxAge).
  //
  // Counts, not a flag: an invalidation lost while the floor rises is not
  // covered by that raise.
  let lostInvalidations = 0;
  let voidedInvalidations = 0;
  let retrying = false;

  /** One raise of the floor over every invalidation lost so far; rejects when Redis did not confirm it. */
  const raiseFloor = async (wait: <T>(work: Promise<T>) => Promise<T>): Promise<void> => {
    const lost = lostInvalidations;
    await wait(redis.parleyCacheRaiseFloor(epochKey, floorKey));
    voidedInvalidations = Math.max(voidedInvalidations, lost);
  };
  /** Before a lookup, a store or an invalidation: the floor covers every loss, or the command fails. */
  const recover = async (wait: <T>(work: Promise<T>) => Promise<T>) => {
    if (voidedInvalidations < lostInvalidations) await raiseFloor(wait);
  };
  /** Resolves when the client is ready again, or after FLOOR_RETRY_MS, whichever comes first. */
  const nextAttempt = () =>
    new Promise<void>((resolve) => {
      const attempt = () => {
        clearTimeout(timer);
        redis.off('ready', attempt);
        resolve();
      };
      const timer = setTimeout(attempt, FLOOR_RETRY_MS);
      // The server keeps the process alive, not this retry.
      timer.unref();
      redis.once('ready', attempt);
    });
  /** After a loss: raises the floor at once, then retries until a raise covers every loss (one retry loop at a time). Never throws. */
  const voidLostInvalidations = async () => {
    try {
      return await raiseFloor(settled);
    } catch {
      if (retrying) return;
    }
    retrying = true;
    try {
      // A client closed for good (the process is stopping) stops the retries.
      while (voidedInvalidations < lostInvalidations && redis.status !== 'end') {
        await nextAttempt();
        await raiseFloor(settled).catch(() => {});
      }
    } finally {
      retrying = false;
    }
  };

  /** Drops the answers a tag moved aside listed, DRAIN_SLICE at a time (alone, or beside another invalidation dropping them too); the emptied key is gone with its last member. */
  const drain = async (key: string, draining: string): Promise<number> => {
    let dropped = 0;
    for (;;) {
      const [count, left] = await settled(redis.parleyCacheDrain(key, draining, DRAIN_SLICE, `${clientPrefix}${answerKey('')}`));
      dropped += count;
      if (left === 0) return dropped;
    }
  };

  return {
    async get(key) {
      await recover(soon);
      const at = now();
      const [value, epoch, floor] = await soon(redis.mgetBuffer(answerKey(key), epochKey, floorKey));
      const since = { epoch: Number(epoch?.toString('latin1') ?? 0), at };
      const stored = value ? decode(value) : undefined;
      const fresh = stored && stored.epoch >= Number(floor?.toString('latin1') ?? 0) ? stored.answer : undefined;
      return { answer: fresh, since };
    },

    async set(key, answer, tags, since) {
      await recover(soon);
      if (outlivedMemory(since, now())) return false;
      const ttl = answer.maxAge * 1000 - (now() - answer.storedAt);
      if (ttl <= 0) return false;
      const stored = await soon(
        redis.parleyCacheStore(
          2 + 2 * tags.length,
          answerKey(key),
          floorKey,
          ...tags.map(invalidatedKey),
          ...tags.map(tagKey),
          encode(answer, since.epoch),
          ttl,
          since.epoch,
          tags.length,
          key,
        ),
      );
      return stored === 1;
    },

    /**
     * One MGET, as a lookup: after a lost invalidation, the floor is raised
     * first (or this fails). When the history has no name, or the epoch is
     * missing (Redis lost its data, or nothing was ever invalidated), it is
     * unknown, and named in the background: the next call reads the name.
     */
    async invalidations(tags) {
      await recover(soon);
      const at = now();
      const [history, epoch, floor, ...invalidated] = await soon(redis.mget(historyKey, epochKey, floorKey, ...tags.map(invalidatedKey)));
      const known = history !== null && epoch !== null;
      if (!known) void redis.parleyCacheNameHistory(historyKey, epochKey, randomUUID()).catch(() => {});
      return {
        history: known ? history : undefined,
        now: { epoch: Number(epoch ?? 0), at },
        floor: Number(floor ?? 0),
        invalidatedAt: invalidated.map((value) => Number(value ?? 0)),
      };
    },

    /**
     * Resolves once every answer carrying one of the tags is gone from Redis
     * (then no instance can serve one), however long Redis takes; rejects
     * when Redis failed or gave no reply within invalidationTimeoutMs, and
     * then, Redis may or may not have dropped them: the next command raises
     * the floor first.
     */
    async invalidate(tags) {
      if (tags.length === 0) return 0;
      try {
        await recover(settled);
        const invalidation = randomUUID();
        const pending = await settled(
          redis.parleyCacheInvalidate(
            1 + 4 * tags.length,
            epochKey,
            ...tags.map(invalidatedKey),
            ...tags.map(tagKey),
            ...tags.map((_, index) => drainKey(invalidation, index + 1)),
            ...tags.map(drainingKey),
            INVALIDATION_MEMORY_MS,
            tags.length,
          ),
        );
        const drains = new Map<string, string>();
        for (let index = 0; index < pending.length; index += 2) drains.set(unprefixed(pending[index]!), unprefixed(pending[index + 1]!));
        const dropped = await Promise.all([...drains].map(([key, draining]) => drain(key, draining)));
        return dropped.reduce((sum, count) => sum + count, 0);
      } catch (error) {
        lostInvalidations += 1;
        void voidLostInvalidations();
        throw error;
      }
    },
  };
}
