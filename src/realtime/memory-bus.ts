import type { PublishedEvent, Topic } from '../writes/events.js';
import { createBusCounters, type BusListener, type EventBus } from './event-bus.js';

/**
 * The bus of a single instance (no REDIS_URL): events go from the write to
 * this process's listeners and nowhere else. It hands on what Redis would,
 * so code behaves the same on both: each event as JSON, parsed once per
 * publish (dates become ISO strings), delivered after the publisher's
 * current task (Redis answers later too), in the order published.
 */
export function createInProcessBus(): EventBus {
  const listeners = new Map<Topic, Set<BusListener>>();
  const counters = createBusCounters();
  let closed = false;

  const deliver = (events: readonly PublishedEvent[]) => {
    for (const event of events) {
      const followers = listeners.get(event.topic);
      if (!followers) continue;
      counters.received += 1;
      // A copy: a listener may unsubscribe (or another subscribe) while this loop runs.
      for (const listener of [...followers]) listener.event(event);
    }
  };

  return {
    counters,
    async publish(events) {
      if (closed || events.length === 0) return;
      counters.published += events.length;
      const copies = JSON.parse(JSON.stringify(events)) as PublishedEvent[];
      setImmediate(() => deliver(copies));
    },
    async subscribe(topic, listener) {
      if (closed) throw new Error('the event bus is closed');
      let followers = listeners.get(topic);
      if (!followers) listeners.set(topic, (followers = new Set()));
      followers.add(listener);
      return () => {
        const current = listeners.get(topic);
        if (!current?.delete(listener)) return;
        if (current.size === 0) listeners.delete(topic);
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      counters.failures += 1;
      const all = [...listeners.values()].flatMap((set) => [...set]);
      listeners.clear();
      for (const listener of all) listener.failed('closing');
    },
  };
}
