// The limits every operation meets apply to subscriptions, on both
// transports alike: the cost limit, the rate limit and the persisted-query
// allow-list refuse a subscription over WebSocket and over multipart HTTP
// with the same code as a query over POST.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertConversation, insertUser } from '../../support/fixtures.js';
import { openRawSocket } from '../../support/subscriptions.js';
import { waitFor } from '../../support/wait-for.js';

const ADDED =
  'subscription A($id: ID!) { messageAdded(conversationId: $id) { id body author { id displayName conversations(first: 50) { edges { node { id } } } } } }';

interface World {
  api: TestApi;
  token: string;
  id: string;
}

async function world(env: Record<string, string>): Promise<World> {
  const api = await startTestApi(env);
  const [one, two] = [await insertUser(api.database.pool, 'One'), await insertUser(api.database.pool, 'Two')];
  const id = toGlobalId('Conversation', await insertConversation(api.database.pool, { participants: [one.id, two.id] }));
  return { api, token: await api.tokenFor(one.id), id };
}

/** The codes a subscription is answered with over WebSocket: the error frame's; none once it runs. */
async function overWebSocket({ api, token, id }: World, query = ADDED): Promise<string[]> {
  const running = () => api.server.realtimeActivity.subscriptions.get('messageAdded') ?? 0;
  const before = running();
  const socket = await openRawSocket(api.url);
  socket.send({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } });
  await socket.frame((frame) => frame.type === 'connection_ack');
  socket.send({ id: '1', type: 'subscribe', payload: { query, variables: { id } } });
  let refused: Record<string, unknown> | undefined;
  void socket
    .frame((frame) => frame.id === '1' && frame.type === 'error')
    .then(
      (frame) => (refused = frame),
      () => undefined,
    );
  await waitFor(() => refused !== undefined || running() > before, 'the subscription to run or be refused');
  // Left open (the server closes it): a close now would lower the count the next call starts from.
  return ((refused?.payload as { extensions: { code: string } }[] | undefined) ?? []).map((error) => error.extensions.code);
}

/** The status and codes a subscription is answered with over multipart HTTP, when refused before it starts. */
async function overHttp({ api, token, id }: World, query = ADDED): Promise<{ status: number; codes: string[] }> {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec=1.0', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: { id } }),
  });
  if (!response.headers.get('content-type')?.startsWith('application/json')) {
    // Started: read until the server ends it (when it closes). Not aborted: undici then opens a spare connection that would hold the server's close.
    void response.text().catch(() => {});
    return { status: response.status, codes: [] };
  }
  const body = (await response.json()) as { errors?: { extensions: { code: string } }[] };
  return { status: response.status, codes: (body.errors ?? []).map((error) => error.extensions.code) };
}

describe('the cost limit', () => {
  let costly: World;
  beforeAll(async () => {
    costly = await world({ MAX_QUERY_COST: '100' });
  });
  afterAll(() => costly.api.close());

  it('refuses a subscription that could cost more, on both transports, as a query', async () => {
    expect(await overWebSocket(costly)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(await overHttp(costly)).toEqual({ status: 400, codes: ['QUERY_TOO_COMPLEX'] });
    const query = await costly.api.request('query V { viewer { conversations(first: 50) { edges { node { id title } } } } }', {}, { token: costly.token });
    expect(query.errors?.map((error) => error.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
  });
});

describe('the rate limit', () => {
  let limited: World;
  beforeAll(async () => {
    // A window so long nothing flows back during the test.
    limited = await world({ RATE_LIMIT_POINTS: '20', RATE_LIMIT_WINDOW_SECONDS: '86400' });
  });
  afterAll(() => limited.api.close());

  it('spends each subscription’s cost from the caller’s bucket, and refuses past it on both transports', async () => {
    const cheap = 'subscription A($id: ID!) { messageAdded(conversationId: $id) { id } }';
    // Each costs 2 of 20: ten start (the WebSocket's run until the socket closes, the HTTP streams are left to the server).
    for (let n = 0; n < 5; n += 1) expect(await overWebSocket(limited, cheap)).toEqual([]);
    for (let n = 0; n < 5; n += 1) expect(await overHttp(limited, cheap)).toEqual({ status: 200, codes: [] });
    expect(await overWebSocket(limited, cheap)).toEqual(['RATE_LIMITED']);
    expect(await overHttp(limited, cheap)).toEqual({ status: 429, codes: ['RATE_LIMITED'] });
  });
});

describe('the persisted-query allow-list', () => {
  let listed: World;
  beforeAll(async () => {
    listed = await world({ PERSISTED_QUERIES: 'allowlist' });
  });
  afterAll(() => listed.api.close());

  it('refuses a subscription outside clients/operations on both transports, as a query', async () => {
    expect(await overWebSocket(listed)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    expect(await overHttp(listed)).toEqual({ status: 400, codes: ['PERSISTED_QUERY_NOT_IN_LIST'] });
  });
});
