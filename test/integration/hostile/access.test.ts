// Hostile input, access: someone else's conversation asked for by every
// path there is. To a non-participant it does not exist (NOT_FOUND); signed
// out, UNAUTHENTICATED; another user's private fields are null or FORBIDDEN.
// Nothing of the conversation appears in any answer.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { graphql, runHostileCases, startWorld, type Answer, type HostileCase, type World } from '../../support/hostile.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.api.close());

/** Nothing of the secret conversation: not its title, not its messages. */
const leaksNothing = (answer: Answer) => expect(answer.text).not.toMatch(/Secret|the plan|agreed/);
const as =
  (token: (w: World) => string | undefined, query: string, variables: (w: World) => Record<string, unknown> = (w) => ({ id: w.secretConversation })) =>
  (w: World) =>
    graphql(w, query, variables(w), token(w));
const outsider = (w: World) => w.outsiderToken;
const nobody = () => undefined;

const CONVERSATION = 'query ($id: ID!) { conversation(id: $id) { id title lastMessage { body } messages { edges { node { body } } } } }';
const NODE = 'query ($id: ID!) { node(id: $id) { id ... on Conversation { title } ... on Message { body conversation { title } } } }';
const SEND = 'mutation ($id: ID!) { sendMessage(input: { conversationId: $id, body: "let me in" }) { message { id } } }';
const EDIT = 'mutation ($id: ID!) { editMessage(input: { messageId: $id, body: "rewritten" }) { message { id body } } }';
const MARK = 'mutation ($id: ID!) { markConversationRead(input: { conversationId: $id }) { conversation { id title } } }';
const message = (w: World) => ({ id: w.memberMessage });

const CASES: HostileCase[] = [
  { name: 'conversation(id)', send: as(outsider, CONVERSATION), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  { name: 'node(conversation id)', send: as(outsider, NODE), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  { name: 'node(message id)', send: as(outsider, NODE, message), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  {
    name: 'the same conversation twice, aliased',
    send: as(outsider, 'query ($id: ID!) { a: conversation(id: $id) { title } b: node(id: $id) { id } }'),
    status: 200,
    codes: ['NOT_FOUND', 'NOT_FOUND'],
    check: leaksNothing,
  },
  {
    name: 'the conversation through a fragment on Node',
    send: as(outsider, 'query ($id: ID!) { node(id: $id) { ...C } } fragment C on Conversation { title participants { username } }'),
    status: 200,
    codes: ['NOT_FOUND'],
    check: leaksNothing,
  },
  { name: 'sendMessage into it', send: as(outsider, SEND), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  { name: 'editMessage of a message in it', send: as(outsider, EDIT, message), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  { name: 'markConversationRead on it', send: as(outsider, MARK), status: 200, codes: ['NOT_FOUND'], check: leaksNothing },
  {
    name: "a member's conversations through user(id)",
    send: as(outsider, 'query ($id: ID!) { user(id: $id) { conversations { edges { node { title } } } } }', (w) => ({ id: toGlobalId('User', w.member.id) })),
    status: 200,
    codes: ['FORBIDDEN'],
    check: leaksNothing,
  },
  {
    name: "a member's conversations through userByUsername",
    send: as(outsider, 'query ($u: String!) { userByUsername(username: $u) { conversations { totalCount } } }', (w) => ({ u: w.member.username })),
    status: 200,
    codes: ['FORBIDDEN'],
    check: leaksNothing,
  },
  {
    name: "a member's conversations through node(user id)",
    send: as(outsider, 'query ($id: ID!) { node(id: $id) { ... on User { conversations { edges { node { title } } } } } }', (w) => ({
      id: toGlobalId('User', w.member.id),
    })),
    status: 200,
    codes: ['FORBIDDEN'],
    check: leaksNothing,
  },
  {
    name: "a member's email (private: null, no error)",
    send: as(outsider, 'query ($id: ID!) { user(id: $id) { username email } }', (w) => ({ id: toGlobalId('User', w.member.id) })),
    status: 200,
    codes: [],
    check: (answer) => expect(answer.json?.data?.user).toMatchObject({ email: null }),
  },
  {
    name: "the outsider's own inbox (does not list it)",
    send: as(outsider, '{ viewer { conversations(first: 100) { totalCount edges { node { id title } } } } }', () => ({})),
    status: 200,
    codes: [],
    check: (answer) => {
      leaksNothing(answer);
      expect(answer.json?.data).toEqual({ viewer: { conversations: { totalCount: 0, edges: [] } } });
    },
  },
  { name: 'conversation(id), signed out', send: as(nobody, CONVERSATION), status: 200, codes: ['UNAUTHENTICATED'], check: leaksNothing },
  { name: 'node(message id), signed out', send: as(nobody, NODE, message), status: 200, codes: ['UNAUTHENTICATED'], check: leaksNothing },
  { name: 'sendMessage, signed out', send: as(nobody, SEND), status: 200, codes: ['UNAUTHENTICATED'], check: leaksNothing },
  { name: 'markConversationRead, signed out', send: as(nobody, MARK), status: 200, codes: ['UNAUTHENTICATED'], check: leaksNothing },
  { name: "editMessage of a fellow member's message", send: as((w) => w.otherMemberToken, EDIT, message), status: 200, codes: ['FORBIDDEN'] },
  { name: 'a message id given as a conversation id', send: as(outsider, CONVERSATION, message), status: 200, codes: ['BAD_USER_INPUT'], check: leaksNothing },
  {
    name: 'a conversation id given as a user id',
    send: as(outsider, 'query ($id: ID!) { user(id: $id) { username } }'),
    status: 200,
    codes: ['BAD_USER_INPUT'],
    check: leaksNothing,
  },
  {
    name: 'the largest conversation id there can be',
    send: as(outsider, CONVERSATION, () => ({ id: toGlobalId('Conversation', 2_147_483_647) })),
    status: 200,
    codes: ['NOT_FOUND'],
  },
];

describe('hostile input: access to a conversation that is not yours', () => {
  runHostileCases(CASES, () => world);
});
