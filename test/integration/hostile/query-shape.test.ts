// Hostile input, query shape: documents too deep, too wide, too repetitive
// or malformed. Each is refused before anything runs (HTTP 400) with a code
// that says why.
import { graphql, raw, runHostileCases, startWorld, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

const repeat = (count: number, item: (index: number) => string) => Array.from({ length: count }, (_unused, index) => item(index)).join(' ');
const nested = (levels: number, open: string, inner: string, close: string) => `${open.repeat(levels)}${inner}${close.repeat(levels)}`;
const chain = (length: number, last: string) => repeat(length, (index) => `fragment F${index} on Query { ${index < length - 1 ? `...F${index + 1}` : last} }`);
const limit = (name: string) => (answer: { json?: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  expect(answer.json?.errors?.[0]?.extensions?.limit).toBe(name);

const CASES: HostileCase[] = [
  {
    name: 'fields nested 16 deep (limit 15)',
    send: (w) =>
      graphql(
        w,
        '{ viewer { conversations { edges { node { messages { edges { node { conversation { participants { conversations { edges { node { lastMessage { author { stats { totalMessages } } } } } } } } } } } } } } } }',
        {},
        w.memberToken,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('depth'),
  },
  {
    name: 'conversation → messages → conversation … 16 deep',
    send: (w) =>
      graphql(
        w,
        `query ($id: ID!) { conversation(id: $id) { ${nested(4, 'messages { edges { node { conversation { ', 'id', ' } } } }')} } }`,
        { id: w.secretConversation },
        w.memberToken,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('depth'),
  },
  {
    name: 'brackets nested 3,000 deep (the parser would overflow)',
    send: (w) => graphql(w, `{ ${nested(3_000, 'viewer { ', 'id', ' }')} }`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nesting'),
  },
  {
    // Fastify's query-string parser leaves a value with an invalid escape undecoded; Apollo's decodes it.
    name: 'brackets nested 1,000 deep in a GET query string, with an invalid escape',
    send: (w) =>
      raw(w, {
        method: 'GET',
        path: `/graphql?query=${encodeURIComponent(`{${nested(1_000, 'a{', 'id', '}')}}`)}%FF`,
        headers: { 'apollo-require-preflight': 'true' },
      }),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nesting'),
  },
  {
    name: 'inline fragments nested 100 deep',
    send: (w) => graphql(w, `{ viewer { ${nested(100, '... on User { ', 'id', ' }')} } }`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nesting'),
  },
  {
    name: 'an input object nested 50 deep',
    send: (w) => graphql(w, `mutation { updateProfile(input: ${nested(50, '{ displayName: ', '"x"', ' }')}) { user { id } } }`, {}, w.memberToken),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nesting'),
  },
  {
    name: 'a list nested 50 deep',
    send: (w) =>
      graphql(w, `mutation { createConversation(input: { participantIds: ${nested(50, '[', '"a"', ']')} }) { conversation { id } } }`, {}, w.memberToken),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nesting'),
  },
  {
    name: 'a chain of 5,000 fragments',
    send: (w) =>
      graphql(
        w,
        `
          query {
            ...F0
          }
          ${chain(5_000, '__typename')}
        `,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('fragmentDepth'),
  },
  {
    name: 'a chain of 16 fragments (limit 15)',
    send: (w) =>
      graphql(
        w,
        `
          query {
            ...F0
          }
          ${chain(16, '__typename')}
        `,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('fragmentDepth'),
  },
  {
    name: 'a cycle of two fragments',
    send: (w) => graphql(w, 'query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'a fragment spreading itself',
    send: (w) => graphql(w, 'query { ...A } fragment A on Query { viewer { id } ...A }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'a cycle 5,000 fragments long',
    send: (w) =>
      graphql(
        w,
        `
          query {
            ...F0
          }
          ${chain(5_000, '...F0')}
        `,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
  },
  {
    name: 'fragments doubling 40 times (2^40 selections)',
    send: (w) =>
      graphql(
        w,
        `
          query {
            ...D0
          }
          ${repeat(40, (index) => `fragment D${index} on Query { ...D${index + 1} ...D${index + 1} }`)}
          fragment D40 on Query {
            __typename
          }
        `,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
  },
  {
    name: '10,001 selections of one field',
    send: (w) => graphql(w, `{ ${'__typename '.repeat(10_001)}}`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nodes'),
  },
  {
    name: '1,001 selections (limit 1,000)',
    send: (w) => graphql(w, `{ viewer { ${'id '.repeat(1_000)}} }`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('nodes'),
  },
  {
    name: '31 aliases (limit 30)',
    send: (w) => graphql(w, `{ viewer { ${repeat(31, (index) => `a${index}: id`)} } }`, {}, w.memberToken),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('aliases'),
  },
  {
    name: '4,800 aliases of leaderboard(first: 0)',
    send: (w) => graphql(w, `{ ${repeat(4_800, (index) => `a${index}: leaderboard(metric: XP, first: 0) { refreshedAt }`)} }`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
  },
  {
    name: '21 root fields (limit 20)',
    send: (w) => graphql(w, `{ ${repeat(21, (index) => `u${index}: userByUsername(username: "nobody${index}") { id }`)} }`),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('rootFields'),
  },
  {
    name: 'aliases hidden in a fragment spread twice',
    send: (w) => graphql(w, `{ viewer { ...A } me: viewer { ...A } } fragment A on User { ${repeat(16, (index) => `a${index}: id`)} }`, {}, w.memberToken),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('aliases'),
  },
  {
    name: '100 conversations × 100 messages (cost)',
    send: (w) =>
      graphql(
        w,
        '{ viewer { conversations(first: 100) { edges { node { messages(first: 100) { edges { node { body author { username } } } } } } } } }',
        {},
        w.memberToken,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('cost'),
  },
  {
    name: 'a page size in a variable that makes the cost too high',
    send: (w) =>
      graphql(
        w,
        'query ($n: Int) { viewer { conversations(first: $n) { edges { node { messages(first: $n) { edges { node { body author { username displayName } } } } } } } } }',
        { n: 100 },
        w.memberToken,
      ),
    status: 400,
    codes: ['QUERY_TOO_COMPLEX'],
    check: limit('cost'),
  },
  { name: 'a syntax error', send: (w) => graphql(w, '{ viewer { id '), status: 400, codes: ['GRAPHQL_PARSE_FAILED'] },
  { name: 'a character the language does not have', send: (w) => graphql(w, '{ viewer { id } } \u0007'), status: 400, codes: ['GRAPHQL_PARSE_FAILED'] },
  { name: 'an unknown field', send: (w) => graphql(w, '{ viewer { password } }'), status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] },
  {
    name: 'an unknown argument',
    send: (w) => graphql(w, '{ viewer { conversations(where: "1=1") { totalCount } } }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  { name: 'an unknown type in a fragment', send: (w) => graphql(w, '{ ...F } fragment F on Admin { id }'), status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] },
  { name: 'an unknown directive', send: (w) => graphql(w, '{ viewer @admin { id } }'), status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] },
  { name: '@skip given a string', send: (w) => graphql(w, '{ viewer @skip(if: "no") { id } }'), status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] },
  {
    name: '@include given a variable of the wrong type',
    send: (w) => graphql(w, 'query ($b: Boolean!) { viewer @include(if: $b) { id } }', { b: 'yes' }),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
  {
    name: 'two anonymous operations',
    send: (w) => graphql(w, '{ viewer { id } } { __typename }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'two operations and no operation name',
    send: (w) => graphql(w, 'query A { viewer { id } } query B { __typename }'),
    status: 400,
    codes: ['OPERATION_RESOLUTION_FAILURE'],
  },
  {
    name: 'an operation name the document lacks',
    send: (w) => raw(w, { body: { query: 'query A { viewer { id } }', operationName: 'B' } }),
    status: 400,
    codes: ['OPERATION_RESOLUTION_FAILURE'],
  },
  {
    name: 'a subscription over plain POST (not multipart, not a WebSocket)',
    send: (w) => graphql(w, 'subscription { messageAdded(conversationId: "x") { id } }'),
    status: 400,
    codes: ['OPERATION_NOT_SUPPORTED'],
  },
  {
    name: 'a mutation type field asked as a query',
    send: (w) => graphql(w, '{ sendMessage(input: { conversationId: "x", body: "y" }) { message { id } } }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'a variable declared twice',
    send: (w) => graphql(w, 'query ($a: Int, $a: Int) { __typename }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'an undeclared variable',
    send: (w) => graphql(w, '{ leaderboard(metric: XP, first: $n) { refreshedAt } }', { n: 1 }),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'a variable of an input type that does not exist',
    send: (w) => graphql(w, 'query ($f: UserFilter) { __typename }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'fields the operation may ask for, at the limits (for contrast: answered)',
    send: (w) => graphql(w, `{ viewer { ${repeat(30, (index) => `a${index}: id`)} } }`, {}, w.memberToken),
    status: 200,
    codes: [],
    check: (answer) => expect(Object.keys((answer.json?.data?.viewer as object) ?? {})).toHaveLength(30),
  },
];

describe('hostile input: query shape', () => {
  runHostileCases(CASES, () => world);
});
