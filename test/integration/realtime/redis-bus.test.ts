// The Redis bus, on a Redis of the test's own (it stops and restarts it):
// events published by one instance reach another's listeners in order; an
// instance subscribes to the channels its listeners follow and no others;
// when its subscriber connection is lost, every listener is told, and it
// subscribes afresh once Redis is back; publishing never throws.
import { createRedisClient, createRedisSubscriber, type Redis } from '../../../src/db/redis.js';
import type { BusListener, EventBus } from '../../../src/realtime/event-bus.js';
import { createRedisBus } from '../../../src/realtime/redis-bus.js';
import { topics, type PublishedEvent } from '../../../src/writes/events.js';
import { startOwnRedis, startTcpProxy, type OwnRedis } from '../../support/redis-server.js';
import { waitFor } from '../../support/wait-for.js';

let redis: OwnRedis;
let admin: Redis;
const buses: EventBus[] = [];
const clients: Redis[] = [];
const silent = { warn: () => {}, info: () => {} };

beforeAll(async () => {
  redis = await startOwnRedis();
  admin = createRedisClient({ url: redis.url, commandTimeoutMs: 5_000 });
  clients.push(admin);
  // The client has no offline queue: a command sent before it is connected fails at once.
  if (admin.status !== 'ready') await new Promise((resolve) => admin.once('ready', resolve));
});
afterAll(async () => {
  for (const bus of buses) await bus.close();
  for (const client of clients) client.disconnect();
  await redis.close();
});

/** An instance's bus: its own publisher client and subscriber connection, as main.ts makes them. */
function instance(options: { subscribeTimeoutMs?: number; republishWithinMs?: number; name?: string; publishThrough?: string } = {}): EventBus {
  const { name, publishThrough, ...busOptions } = options;
  const publisher = createRedisClient({ url: publishThrough ?? redis.url, commandTimeoutMs: 2_000 });
  clients.push(publisher);
  const subscriber = createRedisSubscriber({ url: redis.url, connectionName: name });
  const bus = createRedisBus({ publisher, subscriber, logger: silent, ...busOptions });
  buses.push(bus);
  return bus;
}

function recorder() {
  const events: PublishedEvent[] = [];
  const failures: string[] = [];
  const listener: BusListener = {
    event: (event) => void events.push(event),
    failed: (reason) => void failures.push(reason),
  };
  return { listener, events, failures };
}

const event = (topic: PublishedEvent['topic'], n: number): PublishedEvent => ({ topic, type: 'test', data: { n }, committedAt: Date.now() });
const channels = () => admin.pubsub('CHANNELS', 'parley:live:*') as Promise<string[]>;

it('delivers what one instance publishes to another’s listeners of the topic, in order, and subscribes only to followed topics', async () => {
  const a = instance();
  const b = instance();
  const one = recorder();
  const two = recorder();
  const unsubscribeOne = await b.subscribe(topics.conversation(1), one.listener);
  await b.subscribe(topics.conversation(1), two.listener);
  expect(await channels()).toEqual(['parley:live:conversation:1']);

  // conversation:2 first: had B subscribed to it, it would arrive before conversation:1's.
  await a.publish([event(topics.conversation(2), 0), ...Array.from({ length: 50 }, (_unused, n) => event(topics.conversation(1), n + 1))]);
  await waitFor(() => two.events.length === 50, 'the 50 events');
  expect(one.events.map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 50 }, (_unused, n) => n + 1));
  expect(b.counters.received).toBe(50);
  expect(a.counters.published).toBe(51);

  // One listener left: still subscribed; none: unsubscribed.
  unsubscribeOne();
  expect(await channels()).toEqual(['parley:live:conversation:1']);
  await b.close();
  expect(two.failures).toEqual(['closing']);
  await waitFor(async () => (await channels()).length === 0, 'the channel to be unsubscribed');
});

it('ignores a message that is not an event, and goes on', async () => {
  const bus = instance();
  const one = recorder();
  await bus.subscribe(topics.user(5), one.listener);
  await admin.publish('parley:live:user:5', '{not json');
  await bus.publish([event(topics.user(5), 1)]);
  await waitFor(() => one.events.length === 1, 'the event after the bad message');
  expect(one.failures).toEqual([]);
});

it('tells every listener when its connection is killed, and follows topics again afterwards', async () => {
  const bus = instance({ name: 'killed-events' });
  const publisher = instance();
  const one = recorder();
  await bus.subscribe(topics.conversation(7), one.listener);
  const list = (await admin.client('LIST')) as string;
  const id = list
    .split('\n')
    .find((line) => line.includes('name=killed-events '))
    ?.match(/id=(\d+)/)?.[1];
  expect(id).toBeDefined();
  await admin.client('KILL', 'ID', id!);
  await waitFor(() => one.failures.length === 1, 'the listener to be told');
  expect(one.failures[0]).toMatch(/lost/);
  expect(bus.counters.failures).toBe(1);

  const again = recorder();
  await bus.subscribe(topics.conversation(7), again.listener);
  await publisher.publish([event(topics.conversation(7), 1)]);
  await waitFor(() => again.events.length === 1, 'the event after resubscribing');
  // The failed listener was forgotten.
  expect(one.events).toEqual([]);
});

it('survives a Redis restart: listeners told, publishing counted as failed and never thrown, subscriptions refused until Redis is back', async () => {
  const bus = instance({ subscribeTimeoutMs: 500 });
  const publisher = instance();
  const one = recorder();
  await bus.subscribe(topics.conversation(9), one.listener);

  await redis.stop();
  await waitFor(() => one.failures.length === 1, 'the listener to be told');
  await expect(publisher.publish([event(topics.conversation(9), 1)])).resolves.toBeUndefined();
  expect(publisher.counters.publishFailures).toBe(1);
  const refused = recorder();
  await expect(bus.subscribe(topics.conversation(9), refused.listener)).rejects.toThrow();

  await redis.start();
  const again = recorder();
  await waitFor(
    async () =>
      bus.subscribe(topics.conversation(9), again.listener).then(
        () => true,
        () => false,
      ),
    'a subscription once Redis is back',
  );
  await waitFor(async () => {
    await publisher.publish([event(topics.conversation(9), 2)]);
    return again.events.length > 0;
  }, 'an event once Redis is back');
  expect(refused.events).toEqual([]);
  expect(one.events).toEqual([]);
});

it('publishes again, in order, what it could not publish while other instances still hear Redis; nothing transient, and nothing past its time', async () => {
  const proxy = await startTcpProxy(Number(new URL(redis.url).port));
  try {
    const listening = instance();
    // Its publishes go through a link the test cuts; its listeners' connection does not.
    const cutOff = instance({ publishThrough: proxy.url });
    const late = instance({ publishThrough: proxy.url, republishWithinMs: 200 });
    const heard = recorder();
    await listening.subscribe(topics.conversation(11), heard.listener);
    await listening.subscribe(topics.conversation(12), heard.listener);
    await waitFor(async () => {
      await cutOff.publish([event(topics.conversation(11), 0)]);
      return heard.events.length > 0;
    }, 'an event before the cut');
    await new Promise((resolve) => setTimeout(resolve, 100));
    heard.events.length = 0;

    const { publishFailures, republished } = cutOff.counters;
    proxy.cut();
    await cutOff.publish([event(topics.conversation(11), 1), { ...event(topics.conversation(11), 2), transient: true }]);
    await cutOff.publish([event(topics.conversation(11), 3)]);
    await late.publish([event(topics.conversation(12), 4)]);
    expect(cutOff.counters.publishFailures - publishFailures).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(heard.events).toEqual([]);

    proxy.restore();
    await waitFor(() => cutOff.counters.republished - republished === 2, 'the kept events to be published');
    await waitFor(() => heard.events.length === 2, 'the kept events to arrive');
    // Kept in order; the typing-like event was not kept.
    expect(heard.events.map((e) => (e.data as { n: number }).n)).toEqual([1, 3]);
    // Committed more than 200 ms before Redis took publishes again: given up, not sent late.
    await waitFor(() => late.counters.publishesAbandoned === 1, 'the late event to be given up');
    expect(late.counters.republished).toBe(0);
    expect(heard.events.some((e) => e.topic === topics.conversation(12))).toBe(false);
  } finally {
    await proxy.close();
  }
});
