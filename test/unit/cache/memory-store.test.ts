import type { Tag } from '../../../src/writes/tags.js';
import { createInMemoryStore, entrySize } from '../../../src/cache/memory-store.js';
import type { CachedAnswer } from '../../../src/cache/response-cache.js';

const answer = (text: string, maxAge = 60, storedAt = Date.now()): CachedAnswer => ({ gzipped: Buffer.from(text), storedAt, maxAge, scope: 'PUBLIC' });
const t = (tag: string) => tag as Tag;

describe('the in-process store', () => {
  it('stores an answer and serves it until a write invalidates one of its tags', async () => {
    const store = createInMemoryStore();
    const miss = await store.get('k');
    expect(miss.answer).toBeUndefined();
    expect(await store.set('k', answer('one'), [t('User:1'), t('Inbox:1')], miss.since!)).toBe(true);
    expect(await store.set('other', answer('two'), [t('User:2')], miss.since!)).toBe(true);
    expect((await store.get('k')).answer?.gzipped.toString()).toBe('one');
    expect(await store.invalidate([t('Inbox:1')])).toBe(1);
    expect((await store.get('k')).answer).toBeUndefined();
    expect((await store.get('other')).answer?.gzipped.toString()).toBe('two');
  });

  it('refuses an answer computed across an invalidation of one of its tags, not of others', async () => {
    const store = createInMemoryStore();
    const lookup = await store.get('k');
    await store.invalidate([t('Conversation:3')]);
    expect(await store.set('k', answer('stale'), [t('Conversation:3')], lookup.since!)).toBe(false);
    expect(await store.set('k', answer('unrelated'), [t('Conversation:4')], lookup.since!)).toBe(true);
    const later = await store.get('j');
    expect(await store.set('j', answer('after'), [t('Conversation:3')], later.since!)).toBe(true);
  });

  it('refuses answers looked up before an invalidation it no longer remembers', async () => {
    const store = createInMemoryStore({ maxRememberedTags: 1 });
    const lookup = await store.get('k');
    await store.invalidate([t('User:1')]);
    await store.invalidate([t('User:2')]);
    expect(await store.set('k', answer('maybe stale'), [t('User:1')], lookup.since!)).toBe(false);
  });

  it('expires answers with their TTL, counted from when they were computed', async () => {
    const store = createInMemoryStore();
    const { since } = await store.get('k');
    expect(await store.set('k', answer('old', 60, Date.now() - 59_980), [t('User:1')], since!)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect((await store.get('k')).answer).toBeUndefined();
    expect(await store.set('late', answer('too old', 60, Date.now() - 61_000), [t('User:1')], since!)).toBe(false);
  });

  it('evicts the least recently used answers beyond its size, and forgets their tags', async () => {
    // Room for one of these answers, not two.
    const store = createInMemoryStore({ maxBytes: entrySize(answer('123456'), [t('User:1')]) + 10 });
    const { since } = await store.get('a');
    expect(await store.set('a', answer('123456'), [t('User:1')], since!)).toBe(true);
    expect(await store.set('b', answer('654321'), [t('User:2')], since!)).toBe(true);
    expect((await store.get('a')).answer).toBeUndefined();
    expect(await store.invalidate([t('User:1')])).toBe(0);
    expect(await store.invalidate([t('User:2')])).toBe(1);
  });

  it('counts an answer’s tags against its size, not its gzipped bytes alone', async () => {
    // As the reference inbox: some 1,150 tags. 100 KB holds six such bodies, not one with its tags.
    const tags = (first: number) => Array.from({ length: 1_150 }, (_, index) => t(`Message:${first + index}`));
    const body = 'x'.repeat(10_000);
    expect(entrySize(answer(body), tags(0))).toBeGreaterThan(body.length + 1_150 * 'Message:1000'.length);
    const store = createInMemoryStore({ maxBytes: 200_000 });
    const { since } = await store.get('a');
    for (const key of ['a', 'b', 'c']) expect(await store.set(key, answer(body), tags(key.charCodeAt(0) * 10_000), since!)).toBe(true);
    expect((await store.get('a')).answer).toBeUndefined();
    expect((await store.get('c')).answer?.gzipped.toString()).toBe(body);
    // The evicted answers left the tag index with the LRU: only c is dropped.
    expect(await store.invalidate([...tags('a'.charCodeAt(0) * 10_000), ...tags('c'.charCodeAt(0) * 10_000)])).toBe(1);
  });

  it('keeps a tag shared by several answers until the last of them leaves', async () => {
    const store = createInMemoryStore();
    const { since } = await store.get('a');
    for (const key of ['a', 'b', 'c']) await store.set(key, answer(key), [t('User:1'), t(`Inbox:${key}`)], since!);
    // b leaves (invalidated through its own tag), then is stored again: the index follows each step.
    expect(await store.invalidate([t('Inbox:b')])).toBe(1);
    expect(await store.set('b', answer('b again'), [t('User:1')], (await store.get('b')).since!)).toBe(true);
    expect(await store.invalidate([t('Inbox:a')])).toBe(1);
    expect(await store.invalidate([t('User:1')])).toBe(2);
    for (const key of ['a', 'b', 'c']) expect((await store.get(key)).answer).toBeUndefined();
  });
});
