// Every client mistake is answered as one: a 4xx or a coded GraphQL error,
// never INTERNAL_SERVER_ERROR, nothing sent to the database, and nothing
// logged at error level (an alert on the log must not fire on clients).
import { createHash } from 'node:crypto';
import {
  astFromValue,
  getNamedType,
  GraphQLNonNull,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  print,
  type GraphQLInputType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { SignJWT } from 'jose';
import { buildSchema } from '../../../src/app/schema.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, TEST_JWT_SECRET, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { captureLog, type CapturedLog } from '../../support/log.js';

let api: TestApi;
let log: CapturedLog;
let user: FixtureUser;
let token: string;
let conversationId: string;

beforeAll(async () => {
  log = captureLog();
  api = await startTestApi({ LOG_LEVEL: 'debug' }, undefined, { logStream: log.stream });
  user = await insertUser(api.database.pool, 'Client');
  const friend = await insertUser(api.database.pool, 'Friend');
  conversationId = toGlobalId('Conversation', await insertConversation(api.database.pool, { participants: [user.id, friend.id] }));
  token = await api.tokenFor(user.id);
});
afterAll(() => api.close());

/** Refused before anything ran: `status`, one error with `code`, no SQL statement. */
function expectRefused(result: GraphQLResult<unknown>, status: number, code: string) {
  expect({ status: result.status, codes: result.errors?.map((error) => error.extensions?.code) }).toEqual({ status, codes: [code] });
  expect(result.statements).toBe(0);
}

const LEADERBOARD = 'query ($n: Int, $metric: LeaderboardMetric!) { leaderboard(metric: $metric, first: $n) { edges { node { rank } } } }';

describe('variables that do not coerce are BAD_USER_INPUT with HTTP 400', () => {
  it.each([
    ['a string for an Int', { n: 'abc', metric: 'XP' }],
    ['a missing required variable', { n: 5 }],
    ['an enum value the schema lacks', { n: 5, metric: 'KARMA' }],
    ['1e20 for an Int', { n: 1e20, metric: 'XP' }],
    ['a float for an Int', { n: 2.5, metric: 'XP' }],
    ['an object for an Int', { n: { $gt: 1 }, metric: 'XP' }],
  ])('%s', async (_name, variables) => {
    expectRefused(await api.request(LEADERBOARD, variables), 400, 'BAD_USER_INPUT');
  });

  it('a null for a non-null input field', async () => {
    const result = await api.request(
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }',
      { input: { conversationId, body: null } },
      { token },
    );
    expectRefused(result, 400, 'BAD_USER_INPUT');
  });
});

describe('operations too big to analyse are QUERY_TOO_COMPLEX with HTTP 400', () => {
  it('more than 10,000 selections (graphql-query-complexity’s own node limit)', async () => {
    expectRefused(await api.request(`{ ${'__typename '.repeat(10_001)}}`), 400, 'QUERY_TOO_COMPLEX');
  });

  it('a 5,000-deep chain of fragments', async () => {
    const fragments = Array.from({ length: 5_000 }, (_unused, index) => `fragment F${index} on Query { ${index < 4_999 ? `...F${index + 1}` : '__typename'} }`);
    expectRefused(await api.request(`query { ...F0 } ${fragments.join('\n')}`), 400, 'QUERY_TOO_COMPLEX');
  });

  it('selections nested 3,000 deep (the parser would overflow its stack)', async () => {
    expectRefused(await api.request(`{ ${'viewer { '.repeat(3_000)}id${' }'.repeat(3_000)} }`), 400, 'QUERY_TOO_COMPLEX');
  });

  it('a cycle of fragments is a validation error, not a stack overflow', async () => {
    const result = await api.request('query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }');
    expectRefused(result, 400, 'GRAPHQL_VALIDATION_FAILED');
  });
});

describe('subscriptions', () => {
  it('over a plain POST are refused with OPERATION_NOT_SUPPORTED (HTTP 400), naming the transports that serve them', async () => {
    const result = await api.request('subscription { messageAdded(conversationId: "x") { id } }');
    expectRefused(result, 400, 'OPERATION_NOT_SUPPORTED');
    expect(result.errors![0]!.message).toMatch(/WebSocket.*multipart\/mixed;subscriptionSpec=1\.0/);
  });
});

describe('automatic persisted queries answer with Apollo’s codes', () => {
  const query = '{ __typename }';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('a hash that does not match the query is BAD_REQUEST (HTTP 400)', async () => {
    const response = await api.send({ body: { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ viewer { id } }') } } } });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('an unknown protocol version is BAD_REQUEST (HTTP 400)', async () => {
    const response = await api.send({ body: { query, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } } } });
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
  });

  it('a hash never registered is PERSISTED_QUERY_NOT_FOUND, then registers and runs', async () => {
    const hash = sha256(`${query} `);
    const missing = await api.send({ body: { extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } });
    expect(missing.json).toMatchObject({ errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }] });
    const registered = await api.send({ body: { query: `${query} `, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } });
    expect(registered.json).toMatchObject({ data: { __typename: 'Query' } });
  });
});

describe('the NUL character (U+0000) is refused before any SQL, in every string argument', () => {
  it.each([
    ['userByUsername, literal', 'query { userByUsername(username: "ab\\u0000c") { id } }', {}],
    ['userByUsername, variable', 'query ($u: String!) { userByUsername(username: $u) { id } }', { u: 'ab\u0000c' }],
    ['an id', 'query ($id: ID!) { user(id: $id) { id } }', { id: `${toGlobalId('User', 1)}\u0000` }],
    ['a cursor', 'query { leaderboard(metric: XP, after: "\\u0000") { edges { cursor } } }', {}],
    [
      'an input object field',
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }',
      { input: { conversationId: 'x', body: 'hi\u0000' } },
    ],
    ['a list item', 'mutation ($ids: [ID!]!) { createConversation(input: { participantIds: $ids }) { conversation { id } } }', { ids: ['a', '\u0000'] }],
  ])('%s', async (_name, query, variables) => {
    const result = await api.request(query, variables, { token });
    expectRefused(result, 400, 'BAD_USER_INPUT');
    expect(result.errors![0]!.message).toMatch(/U\+0000/);
  });
});

/** A place a client can put a string: an argument of type String or ID (or a list of them), or such a field of an input object. */
interface StringPlace {
  /** "Conversation.messages(before)", "Mutation.sendMessage(input.body)". */
  name: string;
  /** An operation reaching it with the argument as `$v`, every other required argument a harmless literal. */
  query: string;
  /** `$v`'s value, with U+0000 in that one string. */
  value: unknown;
  /** What the refusal names: "$v", "$v.body", "$v.participantIds.0". */
  field: string;
}

const NUL_STRING = 'a\u0000b';
const isStringType = (type: GraphQLNamedType) => type.name === 'String' || type.name === 'ID';

/** A value any argument or input field of `type` accepts, for those a case does not test. */
function harmlessValue(type: GraphQLInputType): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [harmlessValue(inner.ofType)];
  const named = getNamedType(type);
  if (isEnumType(named)) return named.getValues()[0]!.value;
  if (isInputObjectType(named)) {
    const fields = Object.values(named.getFields()).filter((field) => isNonNullType(field.type));
    return Object.fromEntries(fields.map((field) => [field.name, harmlessValue(field.type)]));
  }
  if (named.name === 'Int' || named.name === 'Float') return 1;
  if (named.name === 'Boolean') return true;
  return 'x';
}

const harmlessLiteral = (type: GraphQLInputType) => print(astFromValue(harmlessValue(type), type)!);

/** A value of `type` with the NUL string at each string place inside it, and that place's path below `path`. */
function nulValues(type: GraphQLInputType, path: string): { value: unknown; field: string }[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return nulValues(inner.ofType, `${path}.0`).map(({ value, field }) => ({ value: [value], field }));
  const named = getNamedType(type);
  if (isStringType(named)) return [{ value: NUL_STRING, field: path }];
  if (!isInputObjectType(named)) return [];
  const required = harmlessValue(new GraphQLNonNull(named)) as Record<string, unknown>;
  return Object.values(named.getFields()).flatMap((field) =>
    nulValues(field.type, `${path}.${field.name}`).map(({ value, field: at }) => ({ value: { ...required, [field.name]: value }, field: at })),
  );
}

/** Every string place of the schema, each reached from Query or Mutation by the shortest path. */
function stringPlaces(schema: GraphQLSchema): StringPlace[] {
  const places: StringPlace[] = [];
  const seen = new Set<string>();
  const roots = [
    ['query', schema.getQueryType()!],
    ['mutation', schema.getMutationType()!],
    ['subscription', schema.getSubscriptionType()!],
  ] as const;
  for (const [kind, root] of roots) {
    // Breadth first: each type is reached by its shortest path (the selections that lead to it).
    const queue: { type: GraphQLObjectType | GraphQLInterfaceType; path: string[] }[] = [{ type: root, path: [] }];
    while (queue.length > 0) {
      const { type, path } = queue.shift()!;
      if (seen.has(type.name) && type !== root) continue;
      seen.add(type.name);
      for (const field of Object.values(type.getFields())) {
        if (field.name.startsWith('__')) continue;
        /** The field with `override` as `$v` and its other required arguments harmless. */
        const call = (override?: string) => {
          const args = field.args
            .filter((argument) => argument.name === override || isNonNullType(argument.type))
            .map((argument) => `${argument.name}: ${argument.name === override ? '$v' : harmlessLiteral(argument.type)}`);
          return `${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}`;
        };
        const document = (inner: string) => path.reduceRight((selected, step) => `${step} { ${selected} }`, inner);
        for (const argument of field.args) {
          const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
          for (const { value, field: at } of nulValues(argument.type, '$v')) {
            const inside = at === '$v' ? '' : at.slice('$v.'.length).replace(/\.0$/, '').replace(/\.0\./g, '.');
            places.push({
              name: `${type.name}.${field.name}(${[argument.name, inside].filter(Boolean).join('.')})`,
              query: `${kind} ($v: ${String(argument.type)}) { ${document(`${call(argument.name)}${selection}`)} }`,
              value,
              field: at,
            });
          }
        }
        const next = getNamedType(field.type);
        if ((isObjectType(next) || isInterfaceType(next)) && !seen.has(next.name)) queue.push({ type: next, path: [...path, call()] });
      }
    }
  }
  return places;
}

describe('the NUL character in every string argument and input field of the schema', () => {
  const places = stringPlaces(buildSchema());

  it('finds them all (the list below is what the schema has today; a new one joins by itself)', () => {
    expect(places.map((place) => place.name)).toEqual(
      expect.arrayContaining([
        'Query.node(id)',
        'Query.userByUsername(username)',
        'Query.leaderboard(after)',
        'User.conversations(before)',
        'Conversation.messages(after)',
        'Query.searchMessages(query)',
        'Query.searchMessages(after)',
        'Mutation.sendMessage(input.body)',
        'Mutation.createConversation(input.participantIds)',
        'Mutation.updateProfile(input.avatarUrl)',
      ]),
    );
  });

  it('reaches every field of the schema that takes a string, whatever the walk above does', () => {
    // Counted apart from the walk: each object or interface type's fields, by their arguments' types.
    const expected = Object.values(buildSchema().getTypeMap())
      .filter((type) => !type.name.startsWith('__') && (isObjectType(type) || isInterfaceType(type)))
      .flatMap((type) =>
        Object.values((type as GraphQLObjectType | GraphQLInterfaceType).getFields()).flatMap((field) =>
          field.args.flatMap((argument) => nulValues(argument.type, '$v').map(() => `${type.name}.${field.name}(${argument.name}`)),
        ),
      );
    // `Type.field(argument` of each place the walk found, once per string inside the argument.
    const reached = places.map((place) => place.name.replace(/^([^(]*\([^.)]*).*$/, '$1'));
    expect(reached.sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThanOrEqual(18);
  });

  it.each(places.map((place) => [place.name, place] as const))('%s is refused before any SQL, naming where', async (_name, place) => {
    // Subscriptions over multipart HTTP: their own transport, with the same checks.
    const headers = place.query.startsWith('subscription') ? { accept: 'multipart/mixed;subscriptionSpec=1.0,application/json' } : undefined;
    const result = await api.request(place.query, { v: place.value }, { token, headers });
    expectRefused(result, 400, 'BAD_USER_INPUT');
    expect(result.errors![0]!.extensions?.field).toBe(place.field);
  });
});

describe('a signed token whose subject is no user id is an invalid token: signed out', () => {
  const sign = (subject: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));

  it.each(['2147483648', String(2 ** 53), '0', '-1', 'abc', '1.5', '1e3', '0x10', ` ${1}`, '01'])('subject %j', async (subject) => {
    const result = await api.request('{ viewer { id } }', {}, { token: await sign(subject) });
    expect(result).toMatchObject({ status: 200, data: { viewer: null } });
    expect(result.errors).toBeUndefined();
    expect(result.statements).toBe(0);
  });

  it('the largest int4 id is still a user id (none here): viewer null after one lookup', async () => {
    const result = await api.request('{ viewer { id } }', {}, { token: await sign('2147483647') });
    expect(result).toMatchObject({ status: 200, data: { viewer: null } });
    expect(result.errors).toBeUndefined();
    expect(result.statements).toBe(1);
  });
});

describe('the log', () => {
  it('has no error-level line for any of the client mistakes above, and debug lines for them', () => {
    expect(log.errors()).toEqual([]);
    expect(log.entries().some((entry) => entry.msg === 'client error in a GraphQL operation')).toBe(true);
  });
});
