// Hostile input over the subscription WebSocket: malformed frames,
// subscribing before connection_init, floods, oversized frames, forged ids
// and cursors. Each gets a coded refusal (a close code, or an error frame
// whose extensions.code names it), nothing is written, no line is logged at
// error level, no stack or SQL reaches the client, and the server goes on.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { CloseCode, ParleyCloseCode } from '../../../src/realtime/closes.js';
import { snapshotTables } from '../../support/assertions.js';
import { startWorld, type World } from '../../support/hostile.js';
import { openRawSocket, type RawSocket } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

const LIMITS = {
  REALTIME_INIT_TIMEOUT_MS: '300',
  REALTIME_SUBSCRIPTIONS_PER_SOCKET: '20',
  REALTIME_SOCKETS_PER_USER: '3',
  REALTIME_MAX_MESSAGE_BYTES: '4096',
};

let world: World;
beforeAll(async () => {
  world = await startWorld(LIMITS);
});
afterAll(() => world.api.close());

/** What a case saw: the close code when the server closed the socket, and the codes of every error it answered. */
interface Observed {
  close?: number;
  codes: string[];
  /** Everything the server sent, as text: checked for stacks and SQL. */
  text: string;
}

const ADDED = 'subscription A($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id } }';

/** A socket past connection_init, as `token`'s user (the member's by default). */
async function acknowledged(token = world.memberToken): Promise<RawSocket> {
  const socket = await openRawSocket(world.api.url);
  socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await socket.frame((frame) => frame.type === 'connection_ack');
  return socket;
}

/** The codes of the error or next frames answering subscription `id`, once it ended (error, or complete). */
async function answerTo(socket: RawSocket, id: string): Promise<string[]> {
  const end = await Promise.race([
    socket.frame((frame) => frame.id === id && (frame.type === 'error' || frame.type === 'complete')),
    socket.closed.then(({ code }) => {
      throw new Error(`the socket closed (${code}) before subscription ${id} was answered`);
    }),
  ]);
  const frames = socket.frames.filter((frame) => frame.id === id && (frame.type === 'error' || frame.type === 'next'));
  const errors = frames.flatMap((frame) =>
    frame.type === 'error'
      ? (frame.payload as { extensions?: { code?: string } }[])
      : ((frame.payload as { errors?: { extensions?: { code?: string } }[] }).errors ?? []),
  );
  expect(end).toBeDefined();
  return errors.map((error) => error.extensions?.code ?? '(none)');
}

/** Sends a subscribe and returns the codes it was answered with; the socket stays open. */
async function subscribeOnce(payload: Record<string, unknown>, token?: string): Promise<Observed> {
  const socket = await acknowledged(token);
  socket.send({ id: '1', type: 'subscribe', payload });
  const codes = await answerTo(socket, '1');
  socket.socket.close();
  return { codes, text: JSON.stringify(socket.frames) };
}

/** Opens a socket, sends `frames` as they are, and waits for the server to close it. */
async function closedBy(frames: (string | Buffer | object)[], options: { init?: boolean; protocol?: string } = {}): Promise<Observed> {
  const socket = options.init === false ? await openRawSocket(world.api.url, options.protocol) : await acknowledged();
  for (const frame of frames) {
    if (Buffer.isBuffer(frame) || typeof frame === 'string') socket.socket.send(frame);
    else socket.send(frame);
  }
  const { code } = await socket.closed;
  return { close: code, codes: [], text: JSON.stringify(socket.frames) };
}

interface SocketCase {
  name: string;
  run: () => Promise<Observed>;
  close?: number;
  codes?: string[];
}

const cases: SocketCase[] = [
  { name: 'text that is not JSON', run: () => closedBy(['{not json']), close: CloseCode.BadRequest },
  { name: 'JSON without a type', run: () => closedBy([{ id: '1' }]), close: CloseCode.BadRequest },
  { name: 'an unknown message type', run: () => closedBy([{ type: 'start', id: '1', payload: {} }]), close: CloseCode.BadRequest },
  { name: 'binary garbage', run: () => closedBy([Buffer.from([0xff, 0x00, 0xfe, 0x01])]), close: CloseCode.BadRequest },
  { name: 'a subscribe without a query', run: () => closedBy([{ id: '1', type: 'subscribe', payload: { variables: {} } }]), close: CloseCode.BadRequest },
  {
    name: 'subscribing before connection_init',
    run: () => closedBy([{ id: '1', type: 'subscribe', payload: { query: ADDED, variables: { id: world.secretConversation } } }], { init: false }),
    close: CloseCode.Unauthorized,
  },
  { name: 'a second connection_init', run: () => closedBy([{ type: 'connection_init', payload: {} }]), close: CloseCode.TooManyInitialisationRequests },
  { name: 'no connection_init in time', run: () => closedBy([], { init: false }), close: CloseCode.ConnectionInitialisationTimeout },
  { name: 'no subprotocol', run: () => closedBy([], { init: false, protocol: '' }), close: CloseCode.SubprotocolNotAcceptable },
  {
    name: 'one subscription id used twice',
    run: () =>
      closedBy([
        { id: 'same', type: 'subscribe', payload: { query: ADDED, variables: { id: world.secretConversation } } },
        { id: 'same', type: 'subscribe', payload: { query: ADDED, variables: { id: world.secretConversation } } },
      ]),
    close: CloseCode.SubscriberAlreadyExists,
  },
  {
    name: 'a frame larger than REALTIME_MAX_MESSAGE_BYTES',
    run: () => closedBy([{ id: '1', type: 'subscribe', payload: { query: ADDED, variables: { id: 'x'.repeat(5_000) } } }]),
    // The WebSocket protocol's own: message too big.
    close: 1009,
  },
  { name: 'a forged conversation id', run: () => subscribeOnce({ query: ADDED, variables: { id: 'forged' } }), codes: ['BAD_USER_INPUT'] },
  { name: 'a message id as conversation id', run: () => subscribeOnce({ query: ADDED, variables: { id: world.memberMessage } }), codes: ['BAD_USER_INPUT'] },
  {
    name: 'a conversation id beyond int4',
    run: () => subscribeOnce({ query: ADDED, variables: { id: Buffer.from('Conversation:2147483648').toString('base64url') } }),
    codes: ['BAD_USER_INPUT'],
  },
  {
    name: 'someone else’s conversation',
    run: () => subscribeOnce({ query: ADDED, variables: { id: world.secretConversation } }, world.outsiderToken),
    codes: ['NOT_FOUND'],
  },
  {
    name: 'a conversation that does not exist',
    run: () => subscribeOnce({ query: ADDED, variables: { id: toGlobalId('Conversation', 2_000_000_000) } }),
    codes: ['NOT_FOUND'],
  },
  {
    name: 'a forged cursor',
    run: () =>
      subscribeOnce({ query: ADDED, variables: { id: world.secretConversation, after: Buffer.from('2026-01-01T00:00:00.000Z|1;DROP').toString('base64url') } }),
    codes: ['BAD_USER_INPUT'],
  },
  { name: 'a query over the socket', run: () => subscribeOnce({ query: '{ viewer { id } }' }), codes: ['OPERATION_NOT_SUPPORTED'] },
  {
    name: 'a mutation over the socket',
    run: () => subscribeOnce({ query: 'mutation { setTyping(input: { conversationId: "x" }) { expiresAt } }' }),
    codes: ['OPERATION_NOT_SUPPORTED'],
  },
  { name: 'not a document', run: () => subscribeOnce({ query: 'subscription {' }), codes: ['GRAPHQL_PARSE_FAILED'] },
  { name: 'an unknown field', run: () => subscribeOnce({ query: 'subscription { messageDeleted { id } }' }), codes: ['GRAPHQL_VALIDATION_FAILED'] },
  {
    name: 'selections nested too deep for the limits',
    run: () => subscribeOnce({ query: `subscription { conversationUpdated { ${'lastMessage { conversation { '.repeat(8)}id${' } }'.repeat(8)} } }` }),
    codes: ['QUERY_TOO_COMPLEX'],
  },
  { name: 'a NUL in a variable', run: () => subscribeOnce({ query: ADDED, variables: { id: 'a\u0000b' } }), codes: ['BAD_USER_INPUT'] },
  {
    name: 'variables that are not an object',
    run: () => closedBy([{ id: '1', type: 'subscribe', payload: { query: ADDED, variables: [1] } }]),
    close: CloseCode.BadRequest,
  },
  { name: 'a variable of the wrong type', run: () => subscribeOnce({ query: ADDED, variables: { id: 7 } }), codes: ['BAD_USER_INPUT'] },
  {
    name: 'a persisted query hash never registered',
    run: () => subscribeOnce({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    codes: ['PERSISTED_QUERY_NOT_FOUND'],
  },
];

describe('the subscription WebSocket refuses, with a code', () => {
  it.each(cases.map((hostile) => [hostile.name, hostile] as const))('%s', async (_name, hostile) => {
    const before = await snapshotTables(world.api.database.pool);
    const errorsBefore = world.log.errors().length;
    const observed = await hostile.run();
    expect({ close: observed.close, codes: observed.codes }).toEqual({ close: hostile.close, codes: hostile.codes ?? [] });
    expect(observed.text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|stacktrace|SELECT|conversation_participants/);
    expect(await snapshotTables(world.api.database.pool)).toEqual(before);
    expect(world.log.errors().slice(errorsBefore)).toEqual([]);
    // And the server goes on.
    expect((await fetch(`${world.api.url}/health`)).status).toBe(200);
  });
});

describe('floods', () => {
  it('of subscribe messages: REALTIME_SUBSCRIPTIONS_PER_SOCKET run, every other one is refused with RATE_LIMITED, the socket stays open', async () => {
    const socket = await acknowledged();
    const FLOOD = 300;
    for (let n = 0; n < FLOOD; n += 1)
      socket.send({ id: String(n), type: 'subscribe', payload: { query: ADDED, variables: { id: world.secretConversation } } });
    await waitFor(() => socket.frames.filter((frame) => frame.type === 'error').length === FLOOD - 20, 'the refusals', 20_000);
    const refused = socket.frames.filter((frame) => frame.type === 'error');
    expect(new Set(refused.map((frame) => (frame.payload as { extensions: { code: string } }[])[0]!.extensions.code))).toEqual(new Set(['RATE_LIMITED']));
    const running = () => world.api.server.realtimeActivity.subscriptions.get('messageAdded') ?? 0;
    await waitFor(() => running() === 20, 'the 20 subscriptions to run');
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    // Completing one makes room for another.
    socket.send({ id: '0', type: 'complete' });
    await waitFor(() => running() === 19, 'the completed subscription to end');
    socket.send({ id: 'after', type: 'subscribe', payload: { query: ADDED, variables: { id: world.secretConversation } } });
    await waitFor(() => running() === 20, 'the new subscription');
    expect(socket.frames.filter((frame) => frame.id === 'after')).toEqual([]);
    socket.socket.close();
    expect(world.log.errors()).toEqual([]);
  }, 30_000);

  it('of sockets: a user’s socket past REALTIME_SOCKETS_PER_USER closes with 4430, and one more is allowed once one closes', async () => {
    const sockets = [await acknowledged(world.otherMemberToken), await acknowledged(world.otherMemberToken), await acknowledged(world.otherMemberToken)];
    const extra = await openRawSocket(world.api.url);
    extra.send({ type: 'connection_init', payload: { authorization: `Bearer ${world.otherMemberToken}` } });
    expect((await extra.closed).code).toBe(ParleyCloseCode.TooManySockets);
    sockets[0]!.socket.close();
    await sockets[0]!.closed;
    const again = await acknowledged(world.otherMemberToken);
    for (const socket of [...sockets.slice(1), again]) socket.socket.close();
  });

  it('an upgrade on another path is refused with 404, not served', async () => {
    const response = await new Promise<number>((resolve, reject) => {
      import('ws')
        .then(({ default: WebSocket }) => {
          const socket = new WebSocket(`${world.api.url.replace('http', 'ws')}/elsewhere`, ['graphql-transport-ws']);
          socket.on('unexpected-response', (_request, reply) => resolve(reply.statusCode ?? 0));
          socket.on('error', () => {});
        })
        .catch(reject);
    });
    expect(response).toBe(404);
  });
});
