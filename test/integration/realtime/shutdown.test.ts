// SIGTERM with subscribers connected (src/main.ts in a child process): every
// WebSocket closes with 1001 "going away" and every multipart stream ends
// with GOING_AWAY, so clients reconnect (to another instance) and resume;
// then the process exits 0.
import { once } from 'node:events';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { TEST_JWT_SECRET } from '../../support/api.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { insertConversation, insertUser } from '../../support/fixtures.js';
import { startServer, type RunningServer } from '../../support/processes.js';
import { collect, connect } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';
import { createAuth } from '../../../src/graphql/auth.js';

let database: TestDatabase;
let server: RunningServer | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  server?.process.kill('SIGKILL');
  await database.close();
});

it('closes WebSockets with 1001 and ends multipart streams with GOING_AWAY, then exits 0', async () => {
  const [one, two] = [await insertUser(database.pool, 'One'), await insertUser(database.pool, 'Two')];
  const id = toGlobalId('Conversation', await insertConversation(database.pool, { participants: [one.id, two.id] }));
  const token = await createAuth({ secret: TEST_JWT_SECRET, ttlSeconds: 600 }).issueToken(one.id);
  server = await startServer({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    DATABASE_DIRECT_URL: database.directUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    STATS_REFRESH_INTERVAL_SECONDS: '0',
  });

  const live = connect(server.url, token);
  const subscription = collect(live.client, 'subscription A($id: ID!) { messageAdded(conversationId: $id) { id } }', { id });
  const closed = live.nextClose();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec=1.0', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'subscription { conversationUpdated { id } }' }),
  });
  expect(response.headers.get('content-type')).toMatch(/^multipart\/mixed/);
  const body = response.text();
  // Both running, as the server's own metrics say.
  const url = server.url;
  await waitFor(async () => {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    return [
      'realtime_open_sockets{transport="websocket"} 1',
      'realtime_open_sockets{transport="http"} 1',
      'realtime_subscriptions{field="messageAdded"} 1',
    ].every((line) => metrics.includes(line));
  }, 'the subscriptions in /metrics');

  const exited = once(server.process, 'exit');
  const signalled = Date.now();
  server.process.kill('SIGTERM');
  expect(await closed).toEqual({ code: 1001, reason: expect.stringMatching(/going away/i) });
  expect(await body).toMatch(/\{"payload":null,"errors":\[\{"message":"Going away[^"]*","extensions":\{"code":"GOING_AWAY"\}\}\]\}\r\n--graphql--\r\n$/);
  const [code] = (await exited) as [number | null];
  expect(code).toBe(0);
  // Promptly: not after the drain's 10 s cut-off of connections that stay open.
  expect(Date.now() - signalled).toBeLessThan(5_000);
  expect(subscription.results).toEqual([]);
  server = undefined;
  await live.dispose();
});
