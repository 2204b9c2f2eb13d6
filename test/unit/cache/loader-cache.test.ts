import { createLoaderCache, entrySize } from '../../../src/cache/loader-cache.js';
import { createInMemoryStore } from '../../../src/cache/memory-store.js';
import { INVALIDATION_MEMORY_MS, type InvalidationState } from '../../../src/cache/response-cache.js';
import type { Tag } from '../../../src/writes/tags.js';
import { manualTime } from '../../support/clock.js';

const t = (tag: string) => tag as Tag;

/** The in-process store, with its checks counted, and able to fail them or to answer them as a store that lost its data would. */
function testStore(clock?: () => number) {
  const store = createInMemoryStore({ clock });
  const control = {
    checks: 0,
    fail: false,
    /** Rewrites what a check answers. */
    alter: undefined as ((state: InvalidationState) => InvalidationState) | undefined,
  };
  return {
    control,
    store: {
      ...store,
      async invalidations(tags: readonly Tag[]) {
        control.checks += 1;
        if (control.fail) throw new Error('store out of reach');
        const state = await store.invalidations(tags);
        return control.alter ? control.alter(state) : state;
      },
    },
  };
}

function setup(options: { maxBytes?: number; ttlMs?: number } = {}) {
  const time = manualTime();
  const { store, control } = testStore(time.now);
  const logged: string[] = [];
  const logger = { warn: (_details: object, message: string) => logged.push(`warn ${message}`), info: (message: string) => logged.push(`info ${message}`) };
  const cache = createLoaderCache({ store, logger, clock: time.now, ...options });
  return { time, store, control, cache, logged };
}

/** Keeps `value` under `key` for a request, as a loader that found nothing and read the database would. */
async function keep(cache: ReturnType<typeof setup>['cache'], key: string, value: unknown, tags: string[], refs?: string[]) {
  const lookup = await cache.forRequest().lookup('loader', [key]);
  lookup.keep(key, value, tags.map(t), refs);
}

describe('the loader cache', () => {
  it('answers a kept value to later requests until a write touches one of its tags', async () => {
    const { cache, store } = setup();
    await keep(cache, 'page:1', ['one'], ['Messages:1', 'Message:10']);
    await keep(cache, 'page:2', ['two'], ['Messages:2']);
    const found = await cache.forRequest().lookup('loader', ['page:1', 'page:2']);
    expect([...found.values]).toEqual([
      ['page:1', ['one']],
      ['page:2', ['two']],
    ]);

    await store.invalidate([t('Message:10')]);
    const after = await cache.forRequest().lookup('loader', ['page:1', 'page:2']);
    expect([...after.values.keys()]).toEqual(['page:2']);
    expect(cache.counters.changed).toBe(1);
    expect(cache.counters.hits.get('loader')).toBe(3);
    expect(cache.counters.misses.get('loader')).toBe(3);
  });

  it('checks every lookup of one tick, of every request, in one round trip', async () => {
    const { cache, control } = setup();
    await keep(cache, 'a', 1, ['User:1']);
    await keep(cache, 'b', 2, ['User:2']);
    control.checks = 0;
    const lookups = await Promise.all([cache.forRequest().lookup('x', ['a']), cache.forRequest().lookup('y', ['b']), cache.forRequest().lookup('y', ['c'])]);
    expect(control.checks).toBe(1);
    expect(lookups.map((lookup) => [...lookup.values.values()])).toEqual([[1], [2], []]);
  });

  it('keeps what was read after a lookup with that lookup’s point: a write in between drops it', async () => {
    const { cache, store } = setup();
    await keep(cache, 'user:1', 'Ann', ['User:1']);
    const request = cache.forRequest();
    const lookup = await request.lookup('loader', ['conversation:5']);
    // The database is read; meanwhile a write commits and invalidates, and the request checks again (another
    // wave of its loaders); then the value read before the write is kept.
    await store.invalidate([t('Conversation:5')]);
    expect((await request.lookup('userById', ['user:1'])).values.size).toBe(1);
    lookup.keep('conversation:5', 'before the write', [t('Conversation:5')]);
    const later = await cache.forRequest().lookup('loader', ['conversation:5']);
    expect(later.values.size).toBe(0);
  });

  it('judges a request’s later lookups by what its checks read, without a round trip, when their tags were read already', async () => {
    const { cache, control } = setup();
    await keep(cache, 'stats:1', 'one', ['Stats']);
    await keep(cache, 'stats:2', 'two', ['Stats']);
    await keep(cache, 'user:2', 'two', ['User:2']);
    const request = cache.forRequest();
    control.checks = 0;
    expect((await request.lookup('statsByUser', ['stats:1'])).values.get('stats:1')).toBe('one');
    expect((await request.lookup('statsByUser', ['stats:2', 'stats:3'])).values.get('stats:2')).toBe('two');
    expect(control.checks).toBe(1);
    // A tag the request has not read: a round trip.
    expect((await request.lookup('userById', ['user:2'])).values.get('user:2')).toBe('two');
    expect(control.checks).toBe(2);
  });

  it('finds the values a value refers to with it, each judged by its own tags', async () => {
    const { cache, store } = setup();
    await keep(cache, 'user:1', 'Ann', ['User:1']);
    await keep(cache, 'user:2', 'Bob', ['User:2']);
    await keep(cache, 'participants:9', [1, 2], ['Conversation:9'], ['user:1', 'user:2']);
    await store.invalidate([t('User:2')]);
    const found = await cache.forRequest().lookup('participants', ['participants:9']);
    expect(Object.fromEntries(found.values)).toEqual({ 'participants:9': [1, 2], 'user:1': 'Ann' });
  });

  it('drops a value unchecked for longer than the store remembers invalidations', async () => {
    const { cache, time } = setup();
    await keep(cache, 'a', 1, ['User:1']);
    time.advance(INVALIDATION_MEMORY_MS / 2 - 1_000);
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(1);
    // Checked just now: its point moved on with the check.
    time.advance(INVALIDATION_MEMORY_MS / 2 - 1_000);
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(1);
    time.advance(INVALIDATION_MEMORY_MS / 2 + 1);
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(0);
  });

  it('keeps a value no longer than its TTL, however often it is checked', async () => {
    const { cache, time } = setup({ ttlMs: 10_000 });
    await keep(cache, 'a', 1, ['User:1']);
    time.advance(9_000);
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(1);
    time.advance(1_001);
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(0);
  });

  it('holds at most maxBytes, the least recently used going first', async () => {
    const size = entrySize('key:0', 'x'.repeat(1_000), [t('User:0')], []);
    const { cache } = setup({ maxBytes: size * 3 });
    for (let n = 0; n < 3; n += 1) await keep(cache, `key:${n}`, 'x'.repeat(1_000), [`User:${n}`]);
    expect(cache.counters).toMatchObject({ entries: 3, bytes: size * 3 });
    await cache.forRequest().lookup('loader', ['key:0']);
    await keep(cache, 'key:3', 'x'.repeat(1_000), ['User:3']);
    const found = await cache.forRequest().lookup('loader', ['key:0', 'key:1', 'key:2', 'key:3']);
    expect([...found.values.keys()]).toEqual(['key:0', 'key:2', 'key:3']);
    expect(cache.counters.bytes).toBeLessThanOrEqual(size * 3);
  });

  it('finds and keeps nothing for the rest of a request whose check failed, counts it, and logs the outage once', async () => {
    const { cache, control, logged } = setup();
    await keep(cache, 'a', 1, ['User:1']);
    control.fail = true;
    const requests = [cache.forRequest(), cache.forRequest()];
    for (const request of requests) {
      const lookup = await request.lookup('loader', ['a']);
      expect(lookup.values.size).toBe(0);
      lookup.keep('b', 2, [t('User:2')]);
    }
    control.fail = false;
    // The same requests, the store back: still nothing (they could not tell what they missed).
    expect((await requests[0]!.lookup('loader', ['a'])).values.size).toBe(0);
    expect((await cache.forRequest().lookup('loader', ['a', 'b'])).values).toEqual(new Map([['a', 1]]));
    expect(cache.counters.errors).toBe(2);
    expect(logged).toEqual(['warn loader cache unavailable: loaders read the database until it is back', 'info loader cache available again']);
  });

  it('with reads routed to replicas, keeps what a request reads with the point of its first check, made before its first read; nothing once a read came from a replica behind', async () => {
    const { cache, store } = setup();
    await keep(cache, 'user:1', 'Ann', ['User:1']);
    const routing = { storable: true, reading: false };
    const request = cache.forRequest({ routedReads: routing });
    const lookup = await request.lookup('loader', ['conversation:5']);
    // The first read chooses a replica by the writes known now; then a write commits and invalidates, and the request
    // checks again: what it reads on that replica may lack the write, and is kept with the first check's point.
    routing.reading = true;
    await store.invalidate([t('Conversation:5')]);
    const later = await request.lookup('userById', ['user:1']);
    lookup.keep('conversation:5', 'maybe before the write', [t('Conversation:5')]);
    later.keep('conversation:6', 'not touched since', [t('Conversation:6')]);
    const found = await cache.forRequest().lookup('loader', ['conversation:5', 'conversation:6']);
    expect([...found.values.keys()]).toEqual(['conversation:6']);

    // A first check made once reads had begun: nothing kept.
    const late = cache.forRequest({ routedReads: { storable: true, reading: true } });
    (await late.lookup('loader', ['conversation:7'])).keep('conversation:7', 'unknown', [t('Conversation:7')]);
    // A read from a replica behind the last write: nothing kept.
    const behind = { storable: true, reading: false };
    const replicaRead = await cache.forRequest({ routedReads: behind }).lookup('loader', ['conversation:8']);
    behind.storable = false;
    replicaRead.keep('conversation:8', 'older', [t('Conversation:8')]);
    expect((await cache.forRequest().lookup('loader', ['conversation:7', 'conversation:8'])).values.size).toBe(0);
  });

  it('drops what was kept in another history of the store, or at a count the store has gone back below', async () => {
    const { cache, control, store } = setup();
    await store.invalidate([t('User:9')]);
    await keep(cache, 'a', 1, ['User:1']);
    control.alter = (state) => ({ ...state, history: 'another' });
    expect((await cache.forRequest().lookup('loader', ['a'])).values.size).toBe(0);

    control.alter = undefined;
    await keep(cache, 'b', 2, ['User:2']);
    control.alter = (state) => ({ ...state, now: { ...state.now, epoch: state.now.epoch - 1 } });
    expect((await cache.forRequest().lookup('loader', ['b'])).values.size).toBe(0);

    // A store whose history has no name yet: nothing found, nothing kept.
    control.alter = (state) => ({ ...state, history: undefined });
    await keep(cache, 'c', 3, ['User:3']);
    control.alter = undefined;
    expect((await cache.forRequest().lookup('loader', ['c'])).values.size).toBe(0);
  });
});
