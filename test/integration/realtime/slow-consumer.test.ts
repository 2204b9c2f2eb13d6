// A consumer that reads nothing: the server closes it with "resume" once
// its unsent bytes pass REALTIME_SEND_BUFFER_BYTES, and the server's memory
// does not grow with what it would otherwise have buffered for it.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertConversation, insertUser } from '../../support/fixtures.js';
import { openRawSocket } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

const SEND_BUFFER = 256 * 1024;
const SUBSCRIPTIONS = 10;
/** A message of 4,000 characters reaches the consumer 10 times over: some 40 KB a message. */
const BODY = 'x'.repeat(4_000);

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ REALTIME_SEND_BUFFER_BYTES: String(SEND_BUFFER), REALTIME_SUBSCRIPTIONS_PER_SOCKET: String(SUBSCRIPTIONS) });
});
afterAll(() => api.close());

/** The heap after a full collection: what the process holds, not what it has yet to collect. */
function heapUsed(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

it('closes a consumer that reads nothing with "resume", and holds nothing more for it however much is sent', async () => {
  const [sender, reader] = [await insertUser(api.database.pool, 'Sender'), await insertUser(api.database.pool, 'Stuck')];
  const conversationId = await insertConversation(api.database.pool, { participants: [sender.id, reader.id] });
  const id = toGlobalId('Conversation', conversationId);
  const token = await api.tokenFor(sender.id);
  const send = () =>
    api.request(
      'mutation S($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }',
      { id, body: BODY },
      { token },
    );

  const activity = api.server.realtimeActivity;
  const socket = await openRawSocket(api.url);
  socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${await api.tokenFor(reader.id)}` } });
  await socket.frame((frame) => frame.type === 'connection_ack');
  for (let n = 0; n < SUBSCRIPTIONS; n += 1) {
    socket.send({
      id: String(n),
      type: 'subscribe',
      payload: { query: 'subscription A($id: ID!) { messageAdded(conversationId: $id) { id body } }', variables: { id } },
    });
  }
  await waitFor(() => (activity.subscriptions.get('messageAdded') ?? 0) === SUBSCRIPTIONS, 'the subscriptions');
  // From now on the client reads nothing: the kernel's buffers fill, then the server's.
  (socket.socket as unknown as { _socket: { pause(): void } })._socket.pause();

  let sent = 0;
  while ((activity.closes.get('resume') ?? 0) === 0) {
    await send();
    sent += 1;
    // Well beyond what the machine's socket buffers and the bound hold: the close should have come.
    expect(sent).toBeLessThan(1_000);
  }
  expect(activity.slowConsumerCloses).toBe(1);
  await waitFor(() => activity.openSockets.websocket === 0, 'the socket to be cut');
  expect(activity.subscriptions.get('messageAdded')).toBe(0);

  // Sending on costs the server nothing for the consumer it closed: 200 more
  // messages (some 8 MB it would have buffered) leave the heap as it was.
  const before = heapUsed();
  for (let n = 0; n < 200; n += 1) await send();
  const growth = heapUsed() - before;
  expect(growth).toBeLessThan(2 * 1024 * 1024);
}, 120_000);
