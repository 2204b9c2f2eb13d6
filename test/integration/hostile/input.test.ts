// Hostile input, values: the NUL character (which PostgreSQL text cannot
// hold), overlong strings, control characters, SQL, broken Unicode and ids
// this API never issued. NUL is refused before any SQL (HTTP 400); the
// domain's own limits answer BAD_USER_INPUT on the field; strings that are
// merely odd are looked up and found to match nothing.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { graphql, runHostileCases, startWorld, type Answer, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

const BY_USERNAME = 'query ($u: String!) { userByUsername(username: $u) { id } }';
const USER = 'query ($id: ID!) { user(id: $id) { id } }';
const SEND = 'mutation ($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }';
const EDIT = 'mutation ($id: ID!, $body: String!) { editMessage(input: { messageId: $id, body: $body }) { message { id } } }';
const PROFILE = 'mutation ($name: String, $avatar: String) { updateProfile(input: { displayName: $name, avatarUrl: $avatar }) { user { id } } }';
const CREATE = 'mutation ($ids: [ID!]!, $title: String) { createConversation(input: { participantIds: $ids, title: $title }) { conversation { id } } }';
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

const byUsername = (u: string) => (w: World) => graphql(w, BY_USERNAME, { u });
const user = (id: string) => (w: World) => graphql(w, USER, { id });
const send = (body: string) => (w: World) => graphql(w, SEND, { id: w.secretConversation, body }, w.memberToken);
const edit = (body: string) => (w: World) => graphql(w, EDIT, { id: w.memberMessage, body }, w.memberToken);
const profile = (variables: { name?: string; avatar?: string }) => (w: World) => graphql(w, PROFILE, variables, w.memberToken);
const create = (ids: (w: World) => string[], title?: string) => (w: World) => graphql(w, CREATE, { ids: ids(w), title }, w.memberToken);
const others = (w: World) => [toGlobalId('User', w.otherMember.id)];

/** Looked up, matched nothing: null, no error. */
const nobody = (answer: Answer) => expect(answer.json?.data).toEqual({ userByUsername: null });
/** Refused as bad input naming `field`. */
const naming = (field: string) => (answer: Answer) => expect(answer.json?.errors?.[0]?.extensions?.field).toBe(field);

const CASES: HostileCase[] = [
  { name: 'NUL in a username (variable)', send: byUsername('member\u0000'), status: 400, codes: ['BAD_USER_INPUT'], check: naming('$u') },
  { name: 'NUL in a username (literal)', send: (w) => graphql(w, '{ userByUsername(username: "a\\u0000b") { id } }'), status: 400, codes: ['BAD_USER_INPUT'] },
  { name: 'NUL in a message body', send: send('hello\u0000world'), status: 400, codes: ['BAD_USER_INPUT'], check: naming('$body') },
  { name: 'NUL in an edited body', send: edit('\u0000'), status: 400, codes: ['BAD_USER_INPUT'], check: naming('$body') },
  { name: 'NUL in a display name', send: profile({ name: 'Mal\u0000lory' }), status: 400, codes: ['BAD_USER_INPUT'], check: naming('$name') },
  {
    name: 'NUL in an avatar URL',
    send: profile({ avatar: 'https://example.com/\u0000.png' }),
    status: 400,
    codes: ['BAD_USER_INPUT'],
    check: naming('$avatar'),
  },
  { name: 'NUL in a conversation title', send: create(others, 'title\u0000'), status: 400, codes: ['BAD_USER_INPUT'], check: naming('$title') },
  {
    name: 'NUL in a participant id',
    send: create((w) => [`${toGlobalId('User', w.otherMember.id)}\u0000`]),
    status: 400,
    codes: ['BAD_USER_INPUT'],
    check: naming('$ids.0'),
  },
  { name: 'NUL in an id', send: user('\u0000'), status: 400, codes: ['BAD_USER_INPUT'] },
  {
    name: 'NUL in a cursor literal',
    send: (w) => graphql(w, '{ leaderboard(metric: XP, after: "x\\u0000") { refreshedAt } }'),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
  {
    name: 'NUL in a variable default value',
    send: (w) => graphql(w, 'query ($u: String = "\\u0000") { userByUsername(username: $u) { id } }'),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
  { name: 'a 4,001-character body', send: send('b'.repeat(4_001)), status: 200, codes: ['BAD_USER_INPUT'], check: naming('input.body') },
  { name: 'a body of whitespace and control characters only', send: send(' \t\n\r '), status: 200, codes: ['BAD_USER_INPUT'], check: naming('input.body') },
  { name: 'an 81-character display name', send: profile({ name: 'n'.repeat(81) }), status: 200, codes: ['BAD_USER_INPUT'], check: naming('input.displayName') },
  { name: 'a 201-character title', send: create(others, 't'.repeat(201)), status: 200, codes: ['BAD_USER_INPUT'], check: naming('input.title') },
  {
    name: 'an avatar URL with an escape character',
    send: profile({ avatar: 'https://example.com/\u001b[31m.png' }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('input.avatarUrl'),
  },
  {
    name: 'a javascript: avatar URL',
    send: profile({ avatar: 'javascript:alert(document.cookie)' }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('input.avatarUrl'),
  },
  {
    name: 'a 3,000-character avatar URL',
    send: profile({ avatar: `https://example.com/${'p'.repeat(3_000)}` }),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('input.avatarUrl'),
  },
  {
    name: '51 participants',
    send: create((w) => Array.from({ length: 51 }, (_unused, index) => toGlobalId('User', w.otherMember.id + index))),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('input.participantIds'),
  },
  {
    name: 'a participant who does not exist',
    send: create(() => [toGlobalId('User', 2_147_483_647)]),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('input.participantIds'),
  },
  { name: 'a username of 500,000 characters', send: byUsername('u'.repeat(500_000)), status: 200, codes: [], check: nobody },
  { name: 'a username with control characters', send: byUsername('\u0001\u0007\u001b[2J'), status: 200, codes: [], check: nobody },
  { name: 'a username that is SQL', send: byUsername("' OR '1'='1' --"), status: 200, codes: [], check: nobody },
  { name: 'a username with a LIKE pattern', send: byUsername('%'), status: 200, codes: [], check: nobody },
  { name: 'a username with a lone surrogate', send: byUsername('\ud800member'), status: 200, codes: [], check: nobody },
  { name: 'a username with right-to-left overrides', send: byUsername('\u202emember'), status: 200, codes: [], check: nobody },
  { name: 'an empty id', send: user(''), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'an id that is not base64', send: user('!!!'), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'a bare database id', send: user('1'), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:0', send: user(base64('User:0')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:-1', send: user(base64('User:-1')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:2147483648 (beyond int4)', send: user(base64('User:2147483648')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:01', send: user(base64('User:01')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:1.5', send: user(base64('User:1.5')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'User:1 OR 1=1', send: user(base64('User:1 OR 1=1')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'Admin:1 (a type that does not exist)', send: user(base64('Admin:1')), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  {
    name: 'Message:2^63 (beyond bigint)',
    send: (w) => graphql(w, 'query ($id: ID!) { node(id: $id) { id } }', { id: base64('Message:9223372036854775808') }, w.memberToken),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('id'),
  },
  {
    name: 'a user id in padded base64 (not the spelling issued)',
    send: user(Buffer.from('User:10').toString('base64')),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: naming('id'),
  },
  { name: 'an id that is a number in the variables', send: user(5 as unknown as string), status: 200, codes: ['BAD_USER_INPUT'], check: naming('id') },
  { name: 'an id that is an object in the variables', send: user({ id: 1 } as unknown as string), status: 400, codes: ['BAD_USER_INPUT'] },
  {
    name: 'an enum value that does not exist, as a literal',
    send: (w) => graphql(w, '{ leaderboard(metric: ADMIN) { refreshedAt } }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'an enum value given as a string literal',
    send: (w) => graphql(w, '{ leaderboard(metric: "XP") { refreshedAt } }'),
    status: 400,
    codes: ['GRAPHQL_VALIDATION_FAILED'],
  },
  {
    name: 'an input field that does not exist',
    send: (w) =>
      graphql(
        w,
        'mutation ($input: UpdateProfileInput!) { updateProfile(input: $input) { user { id } } }',
        { input: { displayName: 'x', role: 'admin' } },
        w.memberToken,
      ),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
  {
    name: 'a required input field left out',
    send: (w) =>
      graphql(
        w,
        'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { message { id } } }',
        { input: { conversationId: w.secretConversation } },
        w.memberToken,
      ),
    status: 400,
    codes: ['BAD_USER_INPUT'],
  },
];

describe('hostile input: values', () => {
  runHostileCases(CASES, () => world);
});
