// Subscriptions over HTTP (multipart/mixed; subscriptionSpec="1.0"), read
// byte by byte as a client reads them, and Apollo Client 4 itself (not
// hand-written frames) receiving messageAdded over both transports: its
// HttpLink (multipart) and its GraphQLWsLink (graphql-ws).
import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { webSocketUrl } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

async function group(name: string) {
  const users = [await insertUser(api.database.pool, `${name}A`), await insertUser(api.database.pool, `${name}B`)];
  const conversationId = await insertConversation(api.database.pool, { participants: users.map((user) => user.id), title: name });
  const [olderId] = await insertMessages(api.database.pool, conversationId, [{ authorId: users[1]!.id, at: new Date(Date.now() - 60_000), body: 'older' }]);
  return { users, id: toGlobalId('Conversation', conversationId), olderId: olderId! };
}

async function send(user: FixtureUser, conversation: string, body: string) {
  const result = await api.request<{ sendMessage: { message: { id: string; cursor: string } } }>(
    'mutation S($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id cursor } } }',
    { id: conversation, body },
    { token: await api.tokenFor(user.id) },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.sendMessage.message;
}

const following = (field: string) => api.server.realtimeActivity.subscriptions.get(field) ?? 0;
const ADDED = 'subscription A($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id body } }';
const MULTIPART = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json';

/** A multipart subscription read as it streams: its status, headers, the JSON of each part, and whether the closing boundary came. */
async function stream(token: string | undefined, body: object) {
  const abort = new AbortController();
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: MULTIPART, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  const parts: unknown[] = [];
  let text = '';
  let ended = false;
  const reading = (async () => {
    if (!response.headers.get('content-type')?.startsWith('multipart/mixed')) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body!) {
        text += decoder.decode(chunk as Uint8Array, { stream: true });
        const pieces = text.split('\r\n--graphql');
        text = pieces.pop()!;
        for (const piece of pieces) {
          const json = piece.slice(piece.indexOf('\r\n\r\n') + 4);
          if (piece.includes('\r\n\r\n')) parts.push(JSON.parse(json));
        }
        if (text.startsWith('--')) ended = true;
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return {
    response,
    parts,
    ended: () => ended,
    done: reading,
    until: (count: number) => waitFor(() => parts.length >= count || ended, `${count} parts`),
    stop: () => abort.abort(),
  };
}

describe('multipart HTTP', () => {
  it('streams each message as a part, in order from the cursor, then live; ends with a coded part when the viewer leaves', async () => {
    const { users, id, olderId } = await group('Multipart');
    const older = await api.request<{ node: { cursor: string } }>(
      'query N($id: ID!) { node(id: $id) { ... on Message { cursor } } }',
      { id: toGlobalId('Message', olderId) },
      { token: await api.tokenFor(users[0]!.id) },
    );
    await send(users[1]!, id, 'one');
    const subscription = await stream(await api.tokenFor(users[0]!.id), { query: ADDED, variables: { id, after: older.data!.node.cursor } });
    expect(subscription.response.status).toBe(200);
    expect(subscription.response.headers.get('content-type')).toBe('multipart/mixed; boundary="graphql"; subscriptionSpec="1.0"');
    await subscription.until(1);
    await send(users[1]!, id, 'two');
    await subscription.until(2);
    await api.request(
      'mutation L($id: ID!) { leaveConversation(input: { conversationId: $id }) { conversationId } }',
      { id },
      { token: await api.tokenFor(users[0]!.id) },
    );
    await subscription.done;
    expect(subscription.parts.filter((part) => Object.keys(part as object).length > 0)).toEqual([
      { payload: { data: { messageAdded: { id: expect.any(String), body: 'one' } } } },
      { payload: { data: { messageAdded: { id: expect.any(String), body: 'two' } } } },
      { payload: null, errors: [expect.objectContaining({ extensions: { code: 'NOT_FOUND' } })] },
    ]);
    expect(subscription.ended()).toBe(true);
  });

  it('answers a subscription refused before it starts as a query is answered: JSON with its status', async () => {
    const { users, id } = await group('Refused');
    const outsider = await api.tokenFor((await insertUser(api.database.pool, 'HttpOutsider')).id);
    const cases = [
      { token: outsider, body: { query: ADDED, variables: { id } }, status: 200, code: 'NOT_FOUND' },
      { token: undefined, body: { query: ADDED, variables: { id } }, status: 200, code: 'UNAUTHENTICATED' },
      { token: outsider, body: { query: 'subscription { messageAdded { id } }' }, status: 400, code: 'GRAPHQL_VALIDATION_FAILED' },
      { token: outsider, body: { query: ADDED, variables: { id: 'forged' } }, status: 200, code: 'BAD_USER_INPUT' },
      { token: outsider, body: { query: ADDED, variables: { id, after: 'not-a-cursor' } }, status: 200, code: 'BAD_USER_INPUT' },
    ];
    for (const { token, body, status, code } of cases) {
      const response = await stream(token, body);
      await response.done;
      expect({ code, status: response.response.status, type: response.response.headers.get('content-type') }).toEqual({
        code,
        status,
        type: expect.stringMatching(/^application\/json/),
      });
      expect(((await response.response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(code);
    }
    expect(users).toHaveLength(2);
  });

  it('ends the stream with TOKEN_EXPIRED when the token expires', async () => {
    const { users, id } = await group('HttpExpiry');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(users[0]!.id))
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const subscription = await stream(token, { query: ADDED, variables: { id } });
    await subscription.done;
    expect(subscription.parts.at(-1)).toEqual({
      payload: null,
      errors: [{ message: expect.stringMatching(/expired/i), extensions: { code: 'TOKEN_EXPIRED' } }],
    });
    expect(subscription.ended()).toBe(true);
  });
});

describe('Apollo Client 4', () => {
  it('receives messageAdded over its HttpLink (multipart) and its GraphQLWsLink (graphql-ws)', async () => {
    const { ApolloClient, HttpLink, InMemoryCache, gql } = await import('@apollo/client');
    const { GraphQLWsLink } = await import('@apollo/client/link/subscriptions');
    const { users, id } = await group('Apollo');
    const token = await api.tokenFor(users[0]!.id);
    const wsClient = createClient({ url: webSocketUrl(api.url), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` } });
    // Its own connections, closed at the end: after an abort, undici opens a spare connection that sends no request, which would hold the server's close.
    const agent = new Agent();
    const fetch = ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher: agent })) as unknown as typeof globalThis.fetch;
    const clients = [
      new ApolloClient({ link: new HttpLink({ uri: `${api.url}/graphql`, headers: { authorization: `Bearer ${token}` }, fetch }), cache: new InMemoryCache() }),
      new ApolloClient({ link: new GraphQLWsLink(wsClient), cache: new InMemoryCache() }),
    ];
    const received: string[][] = clients.map(() => []);
    const before = following('messageAdded');
    const subscriptions = clients.map((client, index) =>
      client.subscribe({ query: gql(ADDED), variables: { id } }).subscribe({
        next: (result) => received[index]!.push((result.data as { messageAdded: { body: string } }).messageAdded.body),
        error: (error: unknown) => received[index]!.push(`error: ${String(error)}`),
      }),
    );
    await waitFor(() => following('messageAdded') >= before + 2, 'both subscriptions');
    await send(users[1]!, id, 'to Apollo');
    await waitFor(() => received.every((bodies) => bodies.length > 0), 'the message on both links');
    expect(received).toEqual([['to Apollo'], ['to Apollo']]);
    for (const subscription of subscriptions) subscription.unsubscribe();
    for (const client of clients) client.stop();
    await wsClient.dispose();
    await agent.close();
    await waitFor(() => following('messageAdded') === before && api.server.realtimeActivity.openSockets.http === 0, 'the subscriptions to end on the server');
  });
});
