import { withinDeadline, type Redis } from '../db/redis.js';
import type { CacheScope } from '../graphql/cache-policy.js';
import type { Tag } from '../writes/tags.js';
import { INVALIDATION_MEMORY_MS, outlivedMemory, type CachedAnswer, type ResponseCache } from './response-cache.js';

export interface RedisStoreOptions {
  /** The process's client (db/redis.ts). The store never closes it. */
  redis: Redis;
  /** Prepended to the store's keys. Default: `parley:cache:`. */
  namespace?: string;
  /** Milliseconds a lookup, store or invalidation waits for Redis before the cache gives up on it (fail-open). Default: 50. */
  deadlineMs?: number;
}

// Both scripts run atomically in Redis, so a store and an invalidation of
// the same tag never interleave: either the answer is in the tag's set
// before the invalidation empties it, or the store sees the invalidation and
// refuses the answer.

/**
 * KEYS: the answer, the floor, then n "invalidated at" keys and n tag sets.
 * ARGV: the value, its TTL in ms, the lookup's epoch, n.
 * Stores the answer and adds it to each tag's set, whose TTL grows to cover
 * it (a set expires with the last answer it lists), unless the floor or one
 * of its tags was invalidated after the lookup.
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
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = n + 3, 2 * n + 2 do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`;

/**
 * KEYS: the epoch, then n "invalidated at" keys and n tag sets.
 * ARGV: how long to remember the invalidation (ms), n.
 * Counts one more invalidation, records it against each tag, and unlinks
 * every answer in the tags' sets (in slices: Lua's unpack has a limit), then
 * the sets. Never KEYS or SCAN: each set names exactly what to drop.
 */
const INVALIDATE_SCRIPT = `
local epoch = redis.call('INCR', KEYS[1])
local n = tonumber(ARGV[2])
local dropped = 0
for i = 2, n + 1 do redis.call('SET', KEYS[i], epoch, 'PX', ARGV[1]) end
for i = n + 2, 2 * n + 1 do
  local members = redis.call('SMEMBERS', KEYS[i])
  for first = 1, #members, 1000 do
    dropped = dropped + redis.call('UNLINK', unpack(members, first, math.min(first + 999, #members)))
  end
  redis.call('UNLINK', KEYS[i])
end
return dropped
`;

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

interface ScriptCommands {
  parleyCacheStore(keyCount: number, ...keysAndArguments: (string | Buffer | number)[]): Promise<number>;
  parleyCacheInvalidate(keyCount: number, ...keysAndArguments: (string | number)[]): Promise<number>;
  parleyCacheRaiseFloor(keyCount: number, ...keys: string[]): Promise<number>;
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
  return { answer: { storedAt: Number(storedAt), maxAge: Number(maxAge), scope: scope as CacheScope, gzipped: value.subarray(end + 1) }, epoch: Number(epoch) };
}

/**
 * The store shared by every instance: answers as strings with a TTL, and for
 * each tag a set of the keys of the answers that carry it. A lookup is one
 * MGET (the answer, the invalidation epoch, the floor); a store and an
 * invalidation are one script each.
 */
export function createRedisStore({ redis, namespace = 'parley:cache:', deadlineMs = 50 }: RedisStoreOptions): ResponseCache {
  const scripts = redis as unknown as ScriptCommands;
  redis.defineCommand('parleyCacheStore', { lua: STORE_SCRIPT });
  redis.defineCommand('parleyCacheInvalidate', { lua: INVALIDATE_SCRIPT });
  redis.defineCommand('parleyCacheRaiseFloor', { lua: RAISE_FLOOR_SCRIPT });

  const epochKey = `${namespace}epoch`;
  const floorKey = `${namespace}floor`;
  const answerKey = (key: string) => `${namespace}answer:${key}`;
  const invalidatedKey = (tag: Tag) => `${namespace}invalidated:${tag}`;
  const tagKey = (tag: Tag) => `${namespace}tag:${tag}`;

  // Set when an invalidation failed; until the floor is raised, nothing is
  // read or stored, since an answer it should have dropped may still be there.
  let lostInvalidation = false;
  const recover = async () => {
    if (!lostInvalidation) return;
    await soon(scripts.parleyCacheRaiseFloor(2, epochKey, floorKey));
    lostInvalidation = false;
  };
  const soon = <T>(work: Promise<T>) => withinDeadline(work, deadlineMs, 'response cache');

  return {
    async get(key) {
      await recover();
      const at = Date.now();
      const [value, epoch, floor] = await soon(redis.mgetBuffer(answerKey(key), epochKey, floorKey));
      const since = { epoch: Number(epoch?.toString('latin1') ?? 0), at };
      const stored = value ? decode(value) : undefined;
      const fresh = stored && stored.epoch >= Number(floor?.toString('latin1') ?? 0) ? stored.answer : undefined;
      return { answer: fresh, since };
    },

    async set(key, answer, tags, since) {
      await recover();
      if (outlivedMemory(since)) return false;
      const ttl = answer.maxAge * 1000 - (Date.now() - answer.storedAt);
      if (ttl <= 0) return false;
      const stored = await soon(
        scripts.parleyCacheStore(
          2 + 2 * tags.length,
          answerKey(key),
          floorKey,
          ...tags.map(invalidatedKey),
          ...tags.map(tagKey),
          encode(answer, since.epoch),
          ttl,
          since.epoch,
          tags.length,
        ),
      );
      return stored === 1;
    },

    async invalidate(tags) {
      if (tags.length === 0) return 0;
      try {
        await recover();
        return await soon(
          scripts.parleyCacheInvalidate(1 + 2 * tags.length, epochKey, ...tags.map(invalidatedKey), ...tags.map(tagKey), INVALIDATION_MEMORY_MS, tags.length),
        );
      } catch (error) {
        lostInvalidation = true;
        throw error;
      }
    },
  };
}
