// The Redis store of the response cache, on a Redis of this test's own (a
// redis-server on a free port, DEBUG allowed from 127.0.0.1 so the test can
// make it slow; never the shared one): a tag lists only answers that are
// still alive, an invalidation drops every answer of a large tag a slice at
// a time, and a slow invalidation neither voids the cache nor lets an
// answer it dropped be served again.
import { createRedisClient, type Redis } from '../../src/db/redis.js';
import { createRedisStore } from '../../src/cache/redis-store.js';
import type { CachedAnswer, ResponseCache } from '../../src/cache/response-cache.js';
import type { Tag } from '../../src/writes/tags.js';
import { until } from '../support/clock.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';

let ownRedis: OwnRedis;
let admin: Redis;
const clients: Redis[] = [];

beforeAll(async () => {
  ownRedis = await startOwnRedis({ args: ['--enable-debug-command', 'local'] });
  admin = await client();
});
afterAll(async () => {
  for (const redis of clients) redis.disconnect();
  await ownRedis.close();
});
beforeEach(() => admin.flushall());

async function client(keyPrefix?: string): Promise<Redis> {
  const redis = createRedisClient({ url: ownRedis.url, commandTimeoutMs: 5_000, keyPrefix });
  clients.push(redis);
  await new Promise((resolve) => redis.once('ready', resolve));
  return redis;
}

/**
 * A store with a client of its own: an instance of the API. Its lookups and
 * stores wait up to 5 s, not the API's 50 ms: these tests are about what the
 * store keeps, and a machine busy with other work (CI's two lanes on two
 * cores) can take longer than 50 ms to answer. What the deadline does is
 * tested through the API, in response-cache-redis.test.ts.
 */
async function instance(options: { invalidationTimeoutMs?: number; keyPrefix?: string } = {}): Promise<ResponseCache> {
  return createRedisStore({ redis: await client(options.keyPrefix), deadlineMs: 5_000, invalidationTimeoutMs: options.invalidationTimeoutMs });
}

const t = (tag: string) => tag as Tag;
/** An answer with `ttlMs` left to live. */
const answer = (text: string, ttlMs = 60_000): CachedAnswer => ({
  gzipped: Buffer.from(text),
  storedAt: Date.now() - (Math.ceil(ttlMs / 1000) * 1000 - ttlMs),
  maxAge: Math.ceil(ttlMs / 1000),
  scope: 'PUBLIC',
});

async function store(cache: ResponseCache, key: string, text: string, tags: Tag[], ttlMs?: number) {
  const { since } = await cache.get(key);
  expect(await cache.set(key, answer(text, ttlMs), tags, since!)).toBe(true);
}

const served = async (cache: ResponseCache, key: string) => (await cache.get(key)).answer?.gzipped.toString();

/**
 * The members of every key the store keeps for `tag`, whatever the layout
 * (a set or a sorted set, under any prefix): the test scans its own Redis
 * for them, which the store itself never does.
 */
async function membersListed(tag: string): Promise<number> {
  let count = 0;
  for (const key of await admin.keys(`*tag:${tag}`)) {
    const type = await admin.type(key);
    count += type === 'zset' ? await admin.zcard(key) : type === 'set' ? await admin.scard(key) : 0;
  }
  return count;
}

/** Makes Redis sleep for `seconds` (DEBUG SLEEP, on a connection of its own); `slept` resolves when it wakes. */
async function slowRedis(seconds: number): Promise<{ slept: Promise<unknown> }> {
  const sleeper = await client();
  const slept = sleeper.call('DEBUG', 'SLEEP', String(seconds));
  // A moment for it to reach Redis before the command it is to delay.
  await new Promise((resolve) => setTimeout(resolve, 30));
  return { slept };
}

it('a tag read often but never written lists only the answers still alive, not every one stored under it', async () => {
  const cache = await instance();
  // One answer keeps the tag alive for a minute, as steady traffic does.
  await store(cache, 'lasting', 'lasting', [t('User:1')]);
  for (let index = 0; index < 20; index += 1) await store(cache, `brief${index}`, 'brief', [t('User:1'), t(`Message:${index}`)], 100);
  // Redis expires them by its own clock: the last one stored, waited for (within 250 ms), then all of them.
  await until('the brief answers expired', async () => (await served(cache, 'brief19')) === undefined, Date.now() + 250);
  for (let index = 0; index < 20; index += 1) expect(await served(cache, `brief${index}`)).toBeUndefined();
  await store(cache, 'later', 'later', [t('User:1')]);
  // The lasting answer and the later one; the 20 expired ones are gone from the tag.
  expect(await membersListed('User:1')).toBe(2);
  expect(await cache.invalidate([t('User:1')])).toBe(2);
  expect(await membersListed('User:1')).toBe(0);
});

it('a tag lives as long as the longest-lived answer it lists, whatever the order they came in', async () => {
  const cache = await instance();
  await store(cache, 'stats', 'five minutes', [t('User:3')], 300_000);
  await store(cache, 'profile', 'one minute', [t('User:3')], 60_000);
  expect(await admin.pttl('parley:cache:v2:tag:User:3')).toBeGreaterThan(290_000);
  await store(cache, 'other', 'one minute', [t('User:4')], 60_000);
  await store(cache, 'other stats', 'five minutes', [t('User:4')], 300_000);
  expect(await admin.pttl('parley:cache:v2:tag:User:4')).toBeGreaterThan(290_000);
});

it('an invalidation drops every answer of a tag larger than a slice, and only those; nothing of it is left in Redis', async () => {
  // Under a client's key prefix, as the tests' shared Redis is used: tags list keys without it.
  const cache = await instance({ keyPrefix: 'prefixed:' });
  const count = 2_345;
  const { since } = await cache.get('k0');
  for (let first = 0; first < count; first += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, count - first) }, (_, index) =>
        cache.set(`k${first + index}`, answer('many'), [t('Leaderboard'), t(`User:${first + index}`)], since!),
      ),
    );
  }
  await store(cache, 'other', 'other', [t('Stats')]);
  expect(await membersListed('Leaderboard')).toBe(count);

  expect(await cache.invalidate([t('Leaderboard')])).toBe(count);
  for (const key of ['k0', 'k1000', `k${count - 1}`]) expect(await served(cache, key)).toBeUndefined();
  expect(await served(cache, 'other')).toBe('other');
  // Left: the invalidation's time for the tag, the epoch, one answer, and the
  // tags of answers that are gone (they expire with those answers).
  const left = await admin.keys('*');
  expect(left.filter((key) => !/(invalidated:|epoch$|tag:User:|tag:Stats$)/.test(key))).toEqual(['prefixed:parley:cache:v2:answer:other']);
  // An answer looked up after the invalidation is stored under the tag again.
  await store(cache, 'after', 'after', [t('Leaderboard')]);
  expect(await cache.invalidate([t('Leaderboard')])).toBe(1);
});

it('a slow invalidation is waited for: it voids nothing else, and once it returns no instance serves what it dropped', async () => {
  const [a, b] = [await instance(), await instance()];
  await store(a, 'conversation', 'before the write', [t('Conversation:1')]);
  await store(b, 'unrelated', 'unrelated', [t('Conversation:2')]);
  expect(await served(b, 'conversation')).toBe('before the write');

  // Redis takes 300 ms over it: six times the 50 ms the API's lookups wait.
  const { slept } = await slowRedis(0.3);
  const started = Date.now();
  await expect(a.invalidate([t('Conversation:1')])).resolves.toBe(1);
  // It was slow (not sent before the sleep): the test saw what it is about.
  expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  await slept;

  // Right after the write: the other instance does not serve the dropped answer …
  expect(await served(b, 'conversation')).toBeUndefined();
  // … and neither instance lost the rest of the cache.
  expect(await served(a, 'unrelated')).toBe('unrelated');
  expect(await served(b, 'unrelated')).toBe('unrelated');
  expect(await admin.exists('parley:cache:floor')).toBe(0);
});

/**
 * An instance whose client stops right after its invalidation script has
 * run, until `resume()`: its invalidation has moved its tags' answers aside
 * and not yet dropped them (as a busy instance may be, for a moment).
 */
async function stoppedAfterInvalidating(): Promise<{ cache: ResponseCache; stopped: Promise<void>; resume: () => void }> {
  const redis = await client();
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  let halted = false;
  const held = new Proxy(redis, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || ['defineCommand', 'on', 'once', 'off', 'removeListener'].includes(String(property))) {
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      const command = value as (...args: unknown[]) => unknown;
      if (property === 'parleyCacheInvalidate') {
        return async (...args: unknown[]) => {
          const reply = await command.apply(target, args);
          halted = true;
          stop();
          return reply;
        };
      }
      if (property === 'pipeline') {
        return (...args: unknown[]) => {
          const pipeline = command.apply(target, args) as { exec(): Promise<unknown> };
          const exec = pipeline.exec.bind(pipeline);
          pipeline.exec = async () => {
            if (halted) await resumed;
            return exec();
          };
          return pipeline;
        };
      }
      return async (...args: unknown[]) => {
        if (halted) await resumed;
        return command.apply(target, args);
      };
    },
  });
  return { cache: createRedisStore({ redis: held, deadlineMs: 5_000 }), stopped, resume };
}

it('an invalidation returns once its tags’ answers are gone, even those another invalidation moved aside and is still dropping', async () => {
  // Found by the cluster harness (test/system/cluster.test.ts): two writes to
  // one conversation on two instances; the second returned while the first
  // was still dropping the answers it had moved aside, and a read between
  // the two was served the answer both writes had changed.
  const [first, second] = [await stoppedAfterInvalidating(), await instance()];
  await store(second, 'conversation', 'before the writes', [t('Conversation:1')]);
  const firstInvalidation = first.cache.invalidate([t('Conversation:1')]);
  await first.stopped;

  await second.invalidate([t('Conversation:1')]);
  expect(await served(second, 'conversation')).toBeUndefined();

  first.resume();
  await firstInvalidation;
  expect(await served(second, 'conversation')).toBeUndefined();
  expect(await admin.keys('*drain*')).toEqual([]);
});

it('an invalidation with no reply within its bound counts as lost: the instance voids every answer before serving one', async () => {
  const a = await instance({ invalidationTimeoutMs: 100 });
  await store(a, 'conversation', 'before the write', [t('Conversation:1')]);
  await store(a, 'unrelated', 'unrelated', [t('Conversation:2')]);

  const { slept } = await slowRedis(0.5);
  await expect(a.invalidate([t('Conversation:1')])).rejects.toThrow(/no reply within 100 ms/);
  await slept;

  // Whether Redis ran it or not, nothing stored before it is served.
  expect(await served(a, 'conversation')).toBeUndefined();
  expect(await served(a, 'unrelated')).toBeUndefined();
  expect(await admin.exists('parley:cache:floor')).toBe(1);
  await store(a, 'unrelated', 'stored again', [t('Conversation:2')]);
  expect(await served(a, 'unrelated')).toBe('stored again');
});

it('tags and answers left by the previous layout (plain sets) neither break the store nor are served', async () => {
  const cache = await instance();
  await admin.sadd('parley:cache:tag:User:9', 'parley:cache:answer:old');
  await admin.set('parley:cache:answer:old', Buffer.concat([Buffer.from(`${Date.now()} 60 PUBLIC 0\n`), Buffer.from('old layout')]), 'PX', 60_000);
  expect(await served(cache, 'old')).toBeUndefined();
  await store(cache, 'new', 'new layout', [t('User:9')]);
  expect(await served(cache, 'new')).toBe('new layout');
  expect(await cache.invalidate([t('User:9')])).toBe(1);
  expect(await served(cache, 'new')).toBeUndefined();
});
