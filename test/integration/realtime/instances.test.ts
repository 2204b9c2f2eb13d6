// Two API instances on one database and one Redis (the test's own: it
// restarts it), with graphql-ws's client: a message sent through one reaches
// subscribers on the other; a subscriber that keeps disconnecting and
// resuming from its cursor, on either instance, while 20 senders write
// through both, receives every message once and in order; a Redis restart
// closes subscriptions with "resume", and resuming loses nothing.
import type { FormattedExecutionResult } from 'graphql';
import { createRedisClient, createRedisSubscriber, type Redis } from '../../../src/db/redis.js';
import { encodeCursor } from '../../../src/graphql/relay/cursor.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { ParleyCloseCode } from '../../../src/realtime/closes.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';
import { collect, connect, type LiveClient } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

let redis: OwnRedis;
let database: TestDatabase;
let a: TestApi;
let b: TestApi;
const clients: Redis[] = [];

async function instance(): Promise<TestApi> {
  const publisher = createRedisClient({ url: redis.url, commandTimeoutMs: 2_000 });
  clients.push(publisher);
  // The database is the test's: no instance closes it.
  return startTestApi({}, { ...database, close: async () => {} }, { redis: publisher, redisSubscriber: createRedisSubscriber({ url: redis.url }) });
}

beforeAll(async () => {
  redis = await startOwnRedis();
  database = await createTestDatabase();
  a = await instance();
  b = await instance();
});
afterAll(async () => {
  await a.close();
  await b.close();
  for (const client of clients) client.disconnect();
  await database.close();
  await redis.close();
});

const following = (api: TestApi, field: string) => api.server.realtimeActivity.subscriptions.get(field) ?? 0;

async function group(name: string, size: number) {
  const users: FixtureUser[] = [];
  for (let index = 0; index < size; index += 1) users.push(await insertUser(database.pool, `${name}${index}`));
  const conversationId = await insertConversation(database.pool, {
    participants: users.map((user) => user.id),
    title: name,
    createdAt: new Date(Date.now() - 3_600_000),
  });
  const at = new Date(Date.now() - 60_000);
  const [firstId] = await insertMessages(database.pool, conversationId, [{ authorId: users[0]!.id, at, body: 'first' }]);
  // Where a client that has read the first message resumes from.
  return { users, conversationId, id: toGlobalId('Conversation', conversationId), cursor: encodeCursor({ at, id: firstId! }) };
}

async function send(api: TestApi, user: FixtureUser, conversation: string, body: string): Promise<void> {
  const result = await api.request(
    'mutation S($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }',
    { id: conversation, body },
    { token: await api.tokenFor(user.id) },
  );
  expect(result.errors).toBeUndefined();
}

const ADDED = 'subscription A($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id body cursor } }';
type Added = { messageAdded: { id: string; body: string; cursor: string } };

it('a message sent through A reaches subscribers on B: messageAdded and their inbox', async () => {
  const { users, id } = await group('Across', 2);
  const live = connect(b.url, await b.tokenFor(users[1]!.id));
  const [added, updated] = [following(b, 'messageAdded'), following(b, 'conversationUpdated')];
  const messages = collect<Added>(live.client, ADDED, { id });
  const inbox = collect<{ conversationUpdated: { id: string; lastMessage: { body: string } } }>(
    live.client,
    'subscription { conversationUpdated { id lastMessage { body } } }',
  );
  await waitFor(() => following(b, 'messageAdded') > added && following(b, 'conversationUpdated') > updated, 'the subscriptions on B');
  await send(a, users[0]!, id, 'from A');
  expect((await messages.until(1))[0]!.data!.messageAdded.body).toBe('from A');
  expect((await inbox.until(1))[0]!.data!.conversationUpdated).toEqual({ id, lastMessage: { body: 'from A' } });
  await live.dispose();
});

it('20 concurrent senders through both instances; a subscriber that disconnects and resumes at random points, on either instance, 50 times and more: every message once, in order', async () => {
  const SENDERS = 20;
  const EACH = 15;
  const { users, conversationId, id, cursor } = await group('Chaos', SENDERS);
  const reader = users[0]!;

  let sending = true;
  const senders = Promise.all(
    users.map(async (user, index) => {
      for (let n = 0; n < EACH; n += 1) await send(index % 2 === 0 ? a : b, user, id, `${index}:${n}`);
    }),
  ).finally(() => {
    sending = false;
  });

  // The subscriber: a session on A or B, resumed from the last cursor it
  // received, ended after a random number of messages (0 to 7) by a clean
  // close or by cutting its socket, or by the server's own close.
  const received: { id: string; body: string }[] = [];
  let after = cursor;
  let sessions = 0;
  const total = SENDERS * EACH;
  while (received.length < total) {
    sessions += 1;
    const api = Math.random() < 0.5 ? a : b;
    let socket: { terminate(): void } | undefined;
    const live: LiveClient = connect(api.url, await api.tokenFor(reader.id));
    live.client.on('connected', (opened) => {
      socket = opened as { terminate(): void };
    });
    const wanted = Math.min(Math.floor(Math.random() * 8), total - received.length);
    const session = collect<Added>(live.client, ADDED, { id, after });
    const timedOut = await session.until(wanted, 20_000).then(
      () => false,
      () => true,
    );
    // The cut falls after the `wanted`th message: anything later in this session is discarded with it.
    const arrived: FormattedExecutionResult<Added, unknown>[] = session.results.slice(0, wanted);
    if (Math.random() < 0.5) socket?.terminate();
    await live.dispose();
    for (const result of arrived) {
      expect(result.errors).toBeUndefined();
      const message = result.data!.messageAdded;
      received.push({ id: message.id, body: message.body });
      after = message.cursor;
    }
    // Nothing came for 20 s with every message sent: missing ones, which the check below names.
    if (timedOut && !sending && arrived.length === 0) break;
  }
  await senders;

  const { rows } = await database.pool.query<{ id: string; body: string }>(
    'SELECT id::text, body FROM messages WHERE conversation_id = $1 ORDER BY created_at, id OFFSET 1',
    [conversationId],
  );
  expect(rows).toHaveLength(total);
  // Exactly once each, in the conversation's (commit) order.
  expect(received.map((message) => message.body)).toEqual(rows.map((row) => row.body));
  expect(received.map((message) => message.id)).toEqual(rows.map((row) => toGlobalId('Message', row.id)));
  expect(sessions).toBeGreaterThanOrEqual(50);
}, 180_000);

it('a Redis restart closes subscriptions with "resume"; resuming from the cursor, nothing sent meanwhile is lost', async () => {
  const { users, id, cursor } = await group('Restart', 2);
  const live = connect(b.url, await b.tokenFor(users[1]!.id));
  const before = following(b, 'messageAdded');
  const session = collect<Added>(live.client, ADDED, { id, after: cursor });
  await waitFor(() => following(b, 'messageAdded') > before, 'the subscription on B');
  await send(a, users[0]!, id, 'before the restart');
  await session.until(1);
  const closed = live.nextClose();

  await redis.stop();
  expect((await closed).code).toBe(ParleyCloseCode.Resume);
  // Written while Redis is down: committed, its event lost.
  await send(a, users[0]!, id, 'while Redis is down');
  await redis.start();
  await live.dispose();

  // The client resumes from the last cursor it received, retrying while the instances reconnect.
  const last = session.results.at(-1)!.data!.messageAdded.cursor;
  const bodies: string[] = [];
  await waitFor(
    async () => {
      const again = connect(a.url, await a.tokenFor(users[1]!.id));
      const resumed = collect<Added>(again.client, ADDED, { id, after: last });
      await resumed.until(1, 3_000).catch(() => undefined);
      await again.dispose();
      const message = resumed.results[0]?.data?.messageAdded;
      if (message) bodies.push(message.body);
      return message !== undefined;
    },
    'a resumed subscription once Redis is back',
    20_000,
  );
  expect(bodies).toEqual(['while Redis is down']);
  expect(session.results.map((result) => result.data!.messageAdded.body)).toEqual(['before the restart']);
}, 60_000);
