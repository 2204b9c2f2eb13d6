// Keep-alive pings (REALTIME_KEEPALIVE_SECONDS): a socket that answers them
// stays open, one that does not is cut within two intervals.
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertUser } from '../../support/fixtures.js';
import { openRawSocket } from '../../support/subscriptions.js';

const INTERVAL_SECONDS = 1;

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ REALTIME_KEEPALIVE_SECONDS: String(INTERVAL_SECONDS) });
});
afterAll(() => api.close());

it('cuts a socket that answers no ping within two intervals, and keeps one that answers', async () => {
  const user = await insertUser(api.database.pool, 'Pinged');
  const token = await api.tokenFor(user.id);
  const open = async (autoPong: boolean) => {
    const socket = await openRawSocket(api.url, 'graphql-transport-ws', { autoPong });
    socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
    await socket.frame((frame) => frame.type === 'connection_ack');
    return { socket, pings: () => socket.pings() };
  };
  // Before the silent socket opens: its first ping may come at once, and its cut one interval after.
  const opened = Date.now();
  const silent = await open(false);
  const answering = await open(true);

  const closed = await silent.socket.closed;
  const after = Date.now() - opened;
  // 1006: cut without a close frame (terminate), after its first ping went unanswered for a whole interval.
  expect(closed.code).toBe(1006);
  expect(silent.pings()).toBeGreaterThanOrEqual(1);
  expect(after).toBeGreaterThanOrEqual(INTERVAL_SECONDS * 1000 * 0.9);
  expect(after).toBeLessThan(INTERVAL_SECONDS * 1000 * 2 + 1_500);

  // The one that answers was pinged as often, and is still open a further interval later.
  await new Promise((resolve) => setTimeout(resolve, INTERVAL_SECONDS * 1000 + 200));
  expect(answering.pings()).toBeGreaterThanOrEqual(2);
  expect(answering.socket.socket.readyState).toBe(answering.socket.socket.OPEN);
  answering.socket.socket.close();
});
