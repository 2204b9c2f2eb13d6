// Hostile input, pagination: page sizes out of range or of the wrong kind,
// and cursors this API never issued. A literal of the wrong type fails
// validation and a variable fails coercion (HTTP 400); a number out of range
// or a forged cursor is BAD_USER_INPUT on its field (HTTP 200, the rest of
// the answer intact).
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { encodeCursor } from '../../../src/graphql/relay/cursor.js';
import { encodeLeaderboardCursor } from '../../../src/modules/leaderboards/cursor.js';
import { graphql, runHostileCases, startWorld, type Answer, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

const INBOX =
  'query ($first: Int, $after: String, $last: Int, $before: String) { viewer { id conversations(first: $first, after: $after, last: $last, before: $before) { edges { cursor } } } }';
const HISTORY =
  'query ($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { conversation(id: $id) { id messages(first: $first, after: $after, last: $last, before: $before) { edges { cursor } } } }';
const BOARD =
  'query ($metric: LeaderboardMetric!, $period: LeaderboardPeriod, $first: Int, $after: String) { leaderboard(metric: $metric, period: $period, first: $first, after: $after) { edges { cursor } } }';
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const inbox = (variables: Record<string, unknown>) => (w: World) => graphql(w, INBOX, variables, w.memberToken);
const history = (variables: Record<string, unknown>) => (w: World) => graphql(w, HISTORY, { id: w.secretConversation, ...variables }, w.memberToken);
const board = (variables: Record<string, unknown>) => (w: World) => graphql(w, BOARD, { metric: 'XP', ...variables }, w.memberToken);

/** A field refused as bad input, naming the argument; a nullable connection's parent still answers (messages is non-null: its conversation goes null with it). */
const refusedField = (field: string, parent?: string) => (answer: Answer) => {
  expect(answer.json?.errors?.[0]?.extensions?.field).toBe(field);
  if (parent) expect((answer.json?.data?.[parent] as Record<string, unknown> | null)?.id).toEqual(expect.any(String));
};

const CASES: HostileCase[] = [
  { name: 'first: -1', send: inbox({ first: -1 }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('first', 'viewer') },
  { name: 'first: 101 (at most 100)', send: inbox({ first: 101 }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('first', 'viewer') },
  { name: 'last: -5', send: inbox({ last: -5 }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('last', 'viewer') },
  { name: 'first and last together', send: inbox({ first: 1, last: 1 }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('first', 'viewer') },
  {
    name: 'after and before together',
    send: history({
      after: encodeCursor({ at: new Date('2026-03-01T10:00:00Z'), id: '1' }),
      before: encodeCursor({ at: new Date('2026-03-01T10:00:00Z'), id: '1' }),
    }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  { name: 'first: 2^31 in a variable', send: inbox({ first: 2 ** 31 }), status: 400, codes: ['BAD_USER_INPUT'] },
  { name: 'first: 1e20 in a variable', send: inbox({ first: 1e20 }), status: 400, codes: ['BAD_USER_INPUT'] },
  { name: 'first: 1.5 in a variable', send: inbox({ first: 1.5 }), status: 400, codes: ['BAD_USER_INPUT'] },
  { name: 'first: "10" in a variable', send: inbox({ first: '10' }), status: 400, codes: ['BAD_USER_INPUT'] },
  { name: 'first: true in a variable', send: inbox({ first: true }), status: 400, codes: ['BAD_USER_INPUT'] },
  {
    name: 'first: 2^31 as a literal',
    send: (w) => graphql(w, '{ viewer { conversations(first: 2147483648) { totalCount } } }', {}, w.memberToken),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'first: 1.5 as a literal',
    send: (w) => graphql(w, '{ viewer { conversations(first: 1.5) { totalCount } } }', {}, w.memberToken),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'first: NaN as a literal',
    send: (w) => graphql(w, '{ viewer { conversations(first: NaN) { totalCount } } }', {}, w.memberToken),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'messages first: 10,000 (over 100; cheap enough to reach the resolver)',
    send: history({ first: 10_000 }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('first'),
  },
  {
    name: 'an after cursor that is not base64',
    send: history({ after: '%%%not a cursor%%%' }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  { name: 'an empty after cursor', send: history({ after: '' }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('after') },
  {
    name: 'a cursor with an impossible date',
    send: history({ after: base64('2026-02-31T00:00:00.000Z|1') }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  {
    name: 'a cursor with a year PostgreSQL cannot store',
    send: history({ after: base64('+275760-09-13T00:00:00.000Z|1') }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  {
    name: 'a cursor whose id is beyond bigint',
    send: history({ before: base64('2026-03-01T10:00:00.000Z|9223372036854775808') }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('before'),
  },
  {
    name: 'a cursor whose id is SQL',
    send: history({ after: base64('2026-03-01T10:00:00.000Z|1 OR 1=1') }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  {
    name: 'a cursor with a third part',
    send: history({ after: `${encodeCursor({ at: new Date('2026-03-01T10:00:00Z'), id: '1' })}${base64('|x')}` }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  {
    name: 'a cursor in padded base64 (not the spelling issued)',
    send: history({ after: `${Buffer.from('2026-03-01T10:00:00.000Z|1').toString('base64')}==` }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  { name: 'a 100 KB cursor', send: history({ after: 'A'.repeat(100_000) }), status: 200, codes: ['BAD_USER_INPUT'], check: refusedField('after') },
  {
    name: 'a conversation cursor given to the inbox of another user',
    send: inbox({ after: 'x' }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after', 'viewer'),
  },
  { name: 'leaderboard first: -1', send: board({ first: -1 }), status: 200, codes: ['BAD_USER_INPUT'] },
  { name: 'leaderboard first: 101', send: board({ first: 101 }), status: 200, codes: ['BAD_USER_INPUT'] },
  {
    name: "a cursor of another leaderboard's metric",
    send: board({ after: encodeLeaderboardCursor('total_messages', { value: 1, userId: 1 }) }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
  },
  { name: 'a leaderboard cursor with a negative value', send: board({ after: base64('xp|-1|1') }), status: 200, codes: ['BAD_USER_INPUT'] },
  { name: 'a leaderboard cursor beyond int4', send: board({ after: base64('xp|2147483648|1') }), status: 200, codes: ['BAD_USER_INPUT'] },
  { name: 'a leaderboard cursor naming a column that does not exist', send: board({ after: base64('password|1|1') }), status: 200, codes: ['BAD_USER_INPUT'] },
  { name: 'a streak over the last 7 days (only ALL_TIME)', send: board({ metric: 'STREAK', period: 'LAST_7_DAYS' }), status: 200, codes: ['BAD_USER_INPUT'] },
  { name: 'a metric that does not exist', send: board({ metric: 'PASSWORD' }), status: 400, codes: ['BAD_USER_INPUT'] },
  {
    name: 'a message id given as a cursor',
    send: history({ after: toGlobalId('Message', 1) }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: refusedField('after'),
  },
  {
    name: 'first: 0 (for contrast: an empty page, answered)',
    send: history({ first: 0 }),
    status: 200,
    codes: [],
    check: (answer) => expect(answer.json?.data?.conversation).toMatchObject({ messages: { edges: [] } }),
  },
];

describe('hostile input: pagination', () => {
  runHostileCases(CASES, () => world);
});
