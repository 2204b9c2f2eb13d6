import type { Result } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { laterLsn, lsnKey, parseLsnKey, type Lsn } from './lsn.js';
import { createOutageLog, withinDeadline, type Redis } from './redis.js';

/**
 * Where in the primary's WAL the latest writes ended, for read replicas
 * (replica-set.ts) to be measured against, kept where every instance reads
 * them (Redis) or, with no Redis (one instance), in the process:
 * - each user's last write: their reads wait for a replica that has
 *   replayed it (read-your-writes on any instance, whatever the client
 *   sends); kept `ttlMs`, long past the lag at which replicas are skipped;
 * - the last write of anyone (every write drops cached answers, so this is
 *   "the last invalidation"): an answer read on a replica that has not
 *   replayed it is not stored in the response cache, since it may predate
 *   a write whose invalidation has already run.
 * One global position rather than one per tag: the tags of an answer are
 * known only once it is computed, and a replica that streams keeps up
 * within a reading or two, so this costs few stores (docs/scale-out.md).
 */
export interface WritePositions {
  /**
   * The last write of `userId` (undefined for a signed-out caller) and of
   * anyone, in one round trip; undefined when they could not be read (then
   * reads go to the primary). When no floor was ever recorded here (a Redis
   * emptied, a process started), one is seeded first from the primary's
   * current position; `floor` is undefined only when that failed (then
   * nothing read on a replica is stored).
   */
  read(userId: number | undefined): Promise<{ user: Lsn | undefined; floor: Lsn | undefined } | undefined>;
  /** A write of `userId` committed, ending at `lsn`. Never throws: a failure is counted and logged (see errors). */
  record(userId: number | undefined, lsn: Lsn): Promise<void>;
  /** Reads and records that failed (Redis down or late). */
  readonly errors: number;
}

/** Lookups wait this long for Redis before the request goes to the primary; the response cache waits as long. */
const READ_DEADLINE_MS = 50;
/** A write waits this long for its position to be recorded (as for its invalidation). */
const RECORD_DEADLINE_MS = 1_000;

/**
 * KEYS: the floor, then the user's key (or none). ARGV: the position (16
 * hex digits: string order is position order), the user key's TTL in ms.
 * Raises each to the position unless it is already further: two writes
 * finishing out of order on two instances leave the later position.
 */
const RAISE_SCRIPT = `
local floor = redis.call('GET', KEYS[1])
if not floor or floor < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) end
if KEYS[2] then
  local user = redis.call('GET', KEYS[2])
  if not user or user < ARGV[1] then user = ARGV[1] end
  redis.call('SET', KEYS[2], user, 'PX', ARGV[2])
end
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** RAISE_SCRIPT, defined by createRedisWritePositions below. */
    parleyRaiseWritePosition(numberOfKeys: number, ...keysAndArguments: (string | number)[]): Result<number, Context>;
  }
}

export interface WritePositionsOptions {
  /** How long a user's last write is remembered, in ms: at least the replicas' lag bound, and more (a replica that far behind is skipped anyway). */
  ttlMs: number;
  /** The primary's current WAL position, read when no floor is known (replica-set.ts primaryLsn). */
  currentLsn: () => Promise<Lsn>;
  /** Where an outage is logged, once when it starts and once when it ends. */
  logger: { warn(details: object, message: string): void; info(message: string): void };
}

/** The raw store under either implementation. */
interface PositionStore {
  get(userId: number | undefined): Promise<{ user: Lsn | undefined; floor: Lsn | undefined }>;
  raise(userId: number | undefined, lsn: Lsn): Promise<void>;
}

/**
 * The store, made safe: failures counted and logged once per outage, and a
 * missing floor seeded. The seed is the primary's position read after the
 * lookup that found none: every write whose record was lost (Redis
 * restarted empty) committed before that lookup, so before the seed.
 */
function positions(store: PositionStore, { currentLsn, logger }: WritePositionsOptions): WritePositions {
  let errors = 0;
  const outage = createOutageLog(
    logger,
    {
      down: 'write positions unavailable: signed-in reads go to the primary until they are back',
      up: 'write positions available again',
    },
    () => (errors += 1),
  );
  let seeding: Promise<Lsn | undefined> | undefined;
  const seed = (): Promise<Lsn | undefined> =>
    (seeding ??= currentLsn()
      .then(async (lsn) => {
        await store.raise(undefined, lsn);
        return lsn;
      })
      .catch((error: unknown) => {
        outage.failed(error, 'seed');
        return undefined;
      })
      .finally(() => {
        seeding = undefined;
      }));
  return {
    get errors() {
      return errors;
    },
    async read(userId) {
      let found: Awaited<ReturnType<PositionStore['get']>>;
      try {
        found = await store.get(userId);
        outage.succeeded();
      } catch (error) {
        outage.failed(error, 'read');
        return undefined;
      }
      // Once per emptied store (requests meanwhile share the one seed).
      return found.floor === undefined ? { user: found.user, floor: await seed() } : found;
    },
    async record(userId, lsn) {
      try {
        await store.raise(userId, lsn);
        outage.succeeded();
      } catch (error) {
        outage.failed(error, 'record');
      }
    },
  };
}

/** Positions in Redis, shared by every instance: one MGET per request that reads, one script per write. */
export function createRedisWritePositions(options: WritePositionsOptions & { redis: Redis; namespace?: string }): WritePositions {
  const { redis, ttlMs, namespace = 'parley:replicas:' } = options;
  redis.defineCommand('parleyRaiseWritePosition', { lua: RAISE_SCRIPT });
  const floorKey = `${namespace}last-write`;
  const userKey = (userId: number) => `${namespace}user:${userId}`;
  return positions(
    {
      async get(userId) {
        if (userId === undefined)
          return { user: undefined, floor: parseLsnKey(await withinDeadline(redis.get(floorKey), READ_DEADLINE_MS, 'write positions')) };
        const [user, floor] = await withinDeadline(redis.mget(userKey(userId), floorKey), READ_DEADLINE_MS, 'write positions');
        return { user: parseLsnKey(user), floor: parseLsnKey(floor) };
      },
      async raise(userId, lsn) {
        const keys = userId === undefined ? [floorKey] : [floorKey, userKey(userId)];
        await withinDeadline(redis.parleyRaiseWritePosition(keys.length, ...keys, lsnKey(lsn), ttlMs), RECORD_DEADLINE_MS, 'write positions');
      },
    },
    options,
  );
}

/** Positions in this process: for one instance with no Redis. At most `maxUsers` users are remembered, the least recent forgotten first. */
export function createInProcessWritePositions(options: WritePositionsOptions & { maxUsers?: number }): WritePositions {
  const users = new LRUCache<number, Lsn>({ max: options.maxUsers ?? 100_000, ttl: options.ttlMs });
  let floor: Lsn | undefined;
  return positions(
    {
      async get(userId) {
        return { user: userId === undefined ? undefined : users.get(userId), floor };
      },
      async raise(userId, lsn) {
        floor = laterLsn(floor, lsn);
        if (userId !== undefined) users.set(userId, laterLsn(users.get(userId), lsn));
      },
    },
    options,
  );
}
