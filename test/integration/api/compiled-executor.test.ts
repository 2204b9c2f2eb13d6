// Operations compiled by graphql-jit (the default) answer byte for byte what
// graphql-js answers (GRAPHQL_JIT=false) on the same database: data, errors
// with their codes, paths and locations, and HTTP statuses; and the compiled
// operations kept stay within their bound however many distinct documents
// clients send.
import { ApolloServer } from '@apollo/server';
import {
  ConversationHistoryDocument,
  InboxDocument,
  LeaderboardDocument,
  ProfileDocument,
  UpdateProfileDocument,
} from '../../../src/generated/graphql/operations.js';
import { createCompiledExecutorGateway } from '../../../src/graphql/compiled-executor.js';
import { buildSchema } from '../../../src/app/schema.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { print, type DocumentNode } from 'graphql';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertInbox, type InboxFixture } from '../../support/fixtures.js';

let compiled: TestApi;
let interpreted: TestApi;
let inbox: InboxFixture;
let token: string;
let inboxCursor: string;

beforeAll(async () => {
  compiled = await startTestApi();
  inbox = await insertInbox(compiled.database.pool, { conversations: 12, messagesEach: 6 });
  interpreted = await startTestApi({ GRAPHQL_JIT: 'false' }, { ...compiled.database, close: async () => {} });
  token = await compiled.tokenFor(inbox.viewer.id);
  // The cursor after the inbox's first three conversations, as a client would page on.
  const firstPage = JSON.parse((await raw(compiled, InboxDocument, { conversations: 3, messages: 2 })).body) as {
    data: { viewer: { conversations: { pageInfo: { endCursor: string } } } };
  };
  inboxCursor = firstPage.data.viewer.conversations.pageInfo.endCursor;
});
afterAll(async () => {
  await interpreted.close();
  await compiled.close();
});

/** The raw answer: status and body text, as a client receives them. */
async function raw(api: TestApi, document: DocumentNode | string, variables: Record<string, unknown>, withToken = true) {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(withToken ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
  });
  return { status: response.status, body: await response.text() };
}

const conversation = () => toGlobalId('Conversation', inbox.conversationIds[3]!);
const someoneElsesConversation = () => toGlobalId('Conversation', 2_000_000_000);

const CASES: [name: string, document: () => DocumentNode | string, variables: () => Record<string, unknown>, withToken?: boolean][] = [
  ['the reference inbox, 12 × 6', () => InboxDocument, () => ({ conversations: 12, messages: 6 })],
  ['an inbox page after a cursor, with unread counts', () => InboxDocument, () => ({ conversations: 3, messages: 2, after: inboxCursor })],
  ['a history page', () => ConversationHistoryDocument, () => ({ id: conversation(), first: 4 })],
  ['a profile', () => ProfileDocument, () => ({ username: inbox.others[0]!.username })],
  ['a leaderboard with the viewer’s entry', () => LeaderboardDocument, () => ({ metric: 'MESSAGES', first: 5 })],
  [
    'nodes of three types and one missing',
    () => `query ($c: ID!, $u: ID!, $m: ID!) {
      c: node(id: $c) { __typename id ... on Conversation { title kind lastMessageAt } }
      u: node(id: $u) { __typename ... on User { username email } }
      m: node(id: $m) { __typename id }
    }`,
    () => ({ c: conversation(), u: toGlobalId('User', inbox.viewer.id), m: toGlobalId('Message', '9000000000000000000') }),
  ],
  ['NOT_FOUND for a conversation the viewer is not in', () => ConversationHistoryDocument, () => ({ id: someoneElsesConversation() })],
  [
    'FORBIDDEN for another user’s conversations, beside data',
    () => `query ($u: ID!) { viewer { id } user(id: $u) { username conversations(first: 1) { totalCount } } }`,
    () => ({ u: toGlobalId('User', inbox.others[1]!.id) }),
  ],
  ['BAD_USER_INPUT for a forged cursor', () => ConversationHistoryDocument, () => ({ id: conversation(), after: 'bm90LWEtY3Vyc29y' })],
  ['UNAUTHENTICATED without a token', () => '{ viewer { id } conversation(id: "x") { id } }', () => ({}), false],
  ['a variable of the wrong type', () => 'query ($first: Int) { viewer { conversations(first: $first) { totalCount } } }', () => ({ first: 'many' })],
  ['QUERY_TOO_COMPLEX', () => InboxDocument, () => ({ conversations: 100, messages: 100 })],
  ['an input object with a variable left out (left to graphql-js)', () => UpdateProfileDocument, () => ({ displayName: 'Same Name' })],
];

describe('compiled execution (graphql-jit) against graphql-js', () => {
  it.each(CASES)('answers %s byte for byte the same', async (_name, document, variables, withToken = true) => {
    const [fromCompiled, fromInterpreted] = [
      await raw(compiled, document(), variables(), withToken),
      await raw(interpreted, document(), variables(), withToken),
    ];
    expect(fromCompiled).toEqual(fromInterpreted);
    // Not vacuous: every case answers something, most of them data.
    expect(fromCompiled.body.length).toBeGreaterThan(40);
  });

  it('answers the cases above with the outcomes they are meant to have', async () => {
    const codes = await Promise.all(
      CASES.map(async ([, document, variables, withToken = true]) => {
        const { status, body } = await raw(compiled, document(), variables(), withToken);
        const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: string } }[] };
        return [status, ...(parsed.errors ?? []).map((error) => error.extensions?.code)];
      }),
    );
    expect(codes).toEqual([
      [200],
      [200],
      [200],
      [200],
      [200],
      [200, 'NOT_FOUND'],
      [200, 'NOT_FOUND'],
      [200, 'FORBIDDEN'],
      [200, 'BAD_USER_INPUT'],
      [200, 'UNAUTHENTICATED'],
      [400, 'BAD_USER_INPUT'],
      [400, 'QUERY_TOO_COMPLEX'],
      [200],
    ]);
  });
});

describe('the compiled operations kept', () => {
  it('stay within maxCompiledOperations however many distinct documents arrive, and still answer', async () => {
    const gateway = createCompiledExecutorGateway({ schema: buildSchema(), maxCompiledOperations: 3 });
    const apollo = new ApolloServer({ gateway });
    await apollo.start();
    try {
      for (let index = 0; index < 10; index += 1) {
        const result = await apollo.executeOperation({ query: `query Distinct${index} { __typename alias${index}: __typename }` });
        expect(result.body).toEqual({ kind: 'single', singleResult: { data: { __typename: 'Query', [`alias${index}`]: 'Query' } } });
        expect(gateway.compiledOperations()).toBe(Math.min(index + 1, 3));
      }
    } finally {
      await apollo.stop();
    }
  });
});
