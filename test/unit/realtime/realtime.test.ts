import { topics, type PublishedEvent } from '../../../src/writes/events.js';
import { ResumeRequiredError } from '../../../src/realtime/closes.js';
import { LiveQueue } from '../../../src/realtime/live-queue.js';
import { createInProcessBus } from '../../../src/realtime/memory-bus.js';
import { comparePositions, type OrderedSource, type Position, type Sequenced } from '../../../src/realtime/ordered-feed.js';
import { createRealtime } from '../../../src/realtime/realtime.js';

const TOPIC = topics.conversation(1);

interface Item extends Sequenced {
  n: number;
}

/**
 * A conversation held in memory, as the database holds messages: items
 * committed in order (each naming the one before), read back in order, and
 * their events published by the test whenever and in whatever order it likes.
 */
function conversation() {
  const committed: Item[] = [];
  let reads = 0;
  const source: OrderedSource<Item> = {
    topic: TOPIC,
    type: 'item',
    itemOf: (event) => event.data as Item,
    fetchAfter: async (after, limit) => {
      reads += 1;
      await new Promise((resolve) => setImmediate(resolve));
      return committed.filter((item) => !after || comparePositions(item.position, after) > 0).slice(0, limit);
    },
    latest: async () => committed.at(-1)?.position ?? null,
  };
  const commit = (): PublishedEvent => {
    const n = committed.length + 1;
    const item: Item = { n, position: { at: 1_000 + Math.floor(n / 3), id: String(n) }, previousId: committed.at(-1)?.position.id ?? null };
    committed.push(item);
    return { topic: TOPIC, type: 'item', data: item, committedAt: Date.now() };
  };
  return { source, commit, committed, reads: () => reads };
}

/** Takes every payload from a stream until it ends or `count` arrived. */
async function take<T>(stream: AsyncIterator<T>, count: number): Promise<T[]> {
  const taken: T[] = [];
  while (taken.length < count) {
    const result = await stream.next();
    if (result.done) break;
    taken.push(result.value);
  }
  return taken;
}

describe('LiveQueue', () => {
  it('hands items in order, ends after the waiting ones, and calls onClose once', async () => {
    let closes = 0;
    const queue = new LiveQueue<number>({ limit: 10, onClose: () => (closes += 1) });
    queue.push(1);
    queue.push(2);
    queue.end();
    expect(await take(queue, 10)).toEqual([1, 2]);
    expect(closes).toBe(1);
    await queue.return();
    expect(closes).toBe(1);
  });

  it('fails with ResumeRequiredError past its limit, dropping what waited', async () => {
    const queue = new LiveQueue<number>({ limit: 2, onClose: () => {} });
    for (const n of [1, 2, 3]) queue.push(n);
    await expect(queue.next()).rejects.toBeInstanceOf(ResumeRequiredError);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('merges items of one key in the first one’s place, so merging never reaches the limit', async () => {
    const queue = new LiveQueue<{ user: string; n: number }>({ limit: 2, keyOf: (item) => item.user, onClose: () => {} });
    for (let n = 0; n < 100; n += 1) queue.push({ user: n % 2 ? 'a' : 'b', n });
    expect(await take(queue, 2)).toEqual([
      { user: 'b', n: 98 },
      { user: 'a', n: 99 },
    ]);
  });

  it('lets a producer wait for room', async () => {
    const queue = new LiveQueue<number>({ limit: 1, onClose: () => {} });
    queue.push(1);
    let roomy = false;
    const room = queue.room().then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(false);
    await queue.next();
    await room;
    expect(roomy).toBe(true);
  });
});

describe('followOrdered', () => {
  const accept = (item: Item, committedAt: number | undefined) => ({ n: item.n, committedAt });

  it('sends every item once and in order when events arrive shuffled, late or never, from one feed read per gap', async () => {
    const bus = createInProcessBus();
    const realtime = createRealtime({ bus, queueEvents: 1_000, typingSeconds: 5 });
    const { source, commit, reads } = conversation();
    const streams = await Promise.all([1, 2, 3].map(() => realtime.followOrdered({ source, after: null, accept, acceptOther: () => undefined })));
    const events = Array.from({ length: 200 }, () => commit());
    // Shuffled in windows of 10, and one in 20 never published at all.
    for (let start = 0; start < events.length; start += 10) {
      const window = events.slice(start, start + 10).sort(() => Math.random() - 0.5);
      await bus.publish(window.filter((_event, index) => (start + index) % 20 !== 7));
    }
    // The last one lost is found when a later one arrives: publish the very last again, as a retry would.
    await bus.publish([events.at(-1)!]);
    for (const stream of streams) {
      expect((await take(stream, 200)).map((payload) => payload.n)).toEqual(Array.from({ length: 200 }, (_unused, index) => index + 1));
      await stream.return!();
    }
    // One feed for the three: each gap read once (or twice, for a gap longer than a read), not once per subscription.
    expect(realtime.counters.gapsFilled).toBeGreaterThan(0);
    expect(reads()).toBeGreaterThanOrEqual(realtime.counters.gapsFilled);
    expect(reads()).toBeLessThan(2 * realtime.counters.gapsFilled);
  });

  it('resumes from any cursor while items are committed and published: no gap and no repeat at the seam', async () => {
    const bus = createInProcessBus();
    const realtime = createRealtime({ bus, queueEvents: 1_000, typingSeconds: 5 });
    const { source, commit, committed } = conversation();
    for (let n = 0; n < 50; n += 1) await bus.publish([commit()]);
    // Subscribers join from random cursors while 100 more are committed and published.
    const joins: Promise<{ from: number; stream: AsyncIterableIterator<{ n: number }> }>[] = [];
    for (let n = 0; n < 100; n += 1) {
      const published = bus.publish([commit()]);
      if (n % 10 === 0) {
        const from = Math.floor(Math.random() * committed.length);
        const after: Position | null = from === 0 ? null : committed[from - 1]!.position;
        joins.push(realtime.followOrdered({ source, after, accept, acceptOther: () => undefined }).then((stream) => ({ from: after ? from : -1, stream })));
      }
      await published;
    }
    for (const { from, stream } of await Promise.all(joins)) {
      if (from < 0) continue;
      const got = (await take(stream, 150 - from)).map((payload) => payload.n);
      expect(got).toEqual(Array.from({ length: 150 - from }, (_unused, index) => from + 1 + index));
      expect(realtime.counters.replayed).toBeGreaterThan(0);
      await stream.return!();
    }
  });

  it('ends a subscription with the error its verdict gives (the viewer left), and others go on', async () => {
    const bus = createInProcessBus();
    const realtime = createRealtime({ bus, queueEvents: 10, typingSeconds: 5 });
    const { source, commit } = conversation();
    const left = new Error('left');
    const leaver = await realtime.followOrdered({
      source,
      after: null,
      accept,
      acceptOther: (event) => (event.type === 'left' ? left : undefined),
    });
    const stayer = await realtime.followOrdered({ source, after: null, accept, acceptOther: () => undefined });
    await bus.publish([commit(), { topic: TOPIC, type: 'left', data: {}, committedAt: 0 }, commit()]);
    expect((await leaver.next()).value).toMatchObject({ n: 1 });
    await expect(leaver.next()).rejects.toBe(left);
    expect((await take(stayer, 2)).map((payload) => payload.n)).toEqual([1, 2]);
  });

  it('fails every subscription with ResumeRequiredError when the bus fails; a new one is SERVICE_UNAVAILABLE while the bus cannot subscribe', async () => {
    const bus = createInProcessBus();
    const realtime = createRealtime({ bus, queueEvents: 10, typingSeconds: 5 });
    const { source } = conversation();
    const stream = await realtime.followOrdered({ source, after: null, accept, acceptOther: () => undefined });
    await bus.close();
    await expect(stream.next()).rejects.toBeInstanceOf(ResumeRequiredError);
    await expect(realtime.followOrdered({ source, after: null, accept, acceptOther: () => undefined })).rejects.toMatchObject({
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  });

  it('closes a subscription that does not read with ResumeRequiredError at its limit', async () => {
    const bus = createInProcessBus();
    const realtime = createRealtime({ bus, queueEvents: 5, typingSeconds: 5 });
    const { source, commit } = conversation();
    const stream = await realtime.followOrdered({ source, after: null, accept, acceptOther: () => undefined });
    for (let n = 0; n < 6; n += 1) await bus.publish([commit()]);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(stream.next()).rejects.toBeInstanceOf(ResumeRequiredError);
  });
});
