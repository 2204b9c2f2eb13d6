import { topics, type PublishedEvent } from '../../../src/writes/events.js';
import type { BusListener } from '../../../src/realtime/event-bus.js';
import { createInProcessBus } from '../../../src/realtime/memory-bus.js';

/** A listener that records what it is told; `next()` resolves with the next event. */
function recorder() {
  const events: PublishedEvent[] = [];
  const failures: string[] = [];
  let waiting: ((event: PublishedEvent) => void) | undefined;
  const listener: BusListener = {
    event(event) {
      events.push(event);
      waiting?.(event);
    },
    failed(reason) {
      failures.push(reason);
    },
  };
  return { listener, events, failures, next: () => new Promise<PublishedEvent>((resolve) => (waiting = resolve)) };
}

const event = (topic: PublishedEvent['topic'], n: number, data: unknown = { n }): PublishedEvent => ({ topic, type: 'test', data, committedAt: 1_000 + n });

describe('the in-process bus', () => {
  it('delivers each event, in order, to the listeners of its topic only, after the publisher’s task', async () => {
    const bus = createInProcessBus();
    const one = recorder();
    const two = recorder();
    const other = recorder();
    await bus.subscribe(topics.conversation(1), one.listener);
    await bus.subscribe(topics.conversation(1), two.listener);
    await bus.subscribe(topics.conversation(2), other.listener);
    const arrived = one.next();
    await bus.publish([event(topics.conversation(1), 1), event(topics.user(1), 2), event(topics.conversation(1), 3)]);
    // Not yet: Redis would answer later too.
    expect(one.events).toEqual([]);
    await arrived;
    expect(one.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(two.events.map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(other.events).toEqual([]);
    expect(bus.counters).toMatchObject({ published: 3, received: 2 });
  });

  it('hands on what Redis would: JSON, dates as ISO strings, a copy the publisher cannot change', async () => {
    const bus = createInProcessBus();
    const one = recorder();
    await bus.subscribe(topics.conversation(1), one.listener);
    const data = { at: new Date('2026-01-02T03:04:05.006Z'), list: [1] };
    const arrived = one.next();
    await bus.publish([event(topics.conversation(1), 1, data)]);
    data.list.push(2);
    expect((await arrived).data).toEqual({ at: '2026-01-02T03:04:05.006Z', list: [1] });
  });

  it('stops a listener that unsubscribes, even one unsubscribed by another listener during a delivery', async () => {
    const bus = createInProcessBus();
    const kept = recorder();
    const dropped = recorder();
    let unsubscribeDropped = () => {};
    await bus.subscribe(topics.conversation(1), {
      event: () => unsubscribeDropped(),
      failed: () => {},
    });
    unsubscribeDropped = await bus.subscribe(topics.conversation(1), dropped.listener);
    await bus.subscribe(topics.conversation(1), kept.listener);
    const arrived = kept.next();
    await bus.publish([event(topics.conversation(1), 1)]);
    await arrived;
    const second = kept.next();
    await bus.publish([event(topics.conversation(1), 2)]);
    await second;
    // The first delivery had started with it; the second did not include it.
    expect(dropped.events.map((e) => e.data)).toEqual([{ n: 1 }]);
    expect(kept.events).toHaveLength(2);
    unsubscribeDropped();
  });

  it('tells every listener it failed when closed, and refuses new subscriptions', async () => {
    const bus = createInProcessBus();
    const one = recorder();
    await bus.subscribe(topics.user(3), one.listener);
    await bus.close();
    expect(one.failures).toEqual(['closing']);
    await expect(bus.subscribe(topics.user(3), one.listener)).rejects.toThrow('closed');
    expect(bus.counters.failures).toBe(1);
  });
});
