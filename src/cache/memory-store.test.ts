import type { Tag } from '../writes/tags.js';
import { createInMemoryStore } from './memory-store.js';
import type { CachedAnswer } from './response-cache.js';

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
    const store = createInMemoryStore({ maxBytes: 10 });
    const { since } = await store.get('a');
    await store.set('a', answer('123456'), [t('User:1')], since!);
    await store.set('b', answer('654321'), [t('User:2')], since!);
    expect((await store.get('a')).answer).toBeUndefined();
    expect(await store.invalidate([t('User:1')])).toBe(0);
    expect(await store.invalidate([t('User:2')])).toBe(1);
  });
});
