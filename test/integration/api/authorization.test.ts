// A conversation and everything in it exist for its participants only, on
// every path; to anyone else they answer as a missing id does (NOT_FOUND,
// docs/design.md), and a user's conversations are listed to that user only.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { errorCodes, startTestApi, type GraphQLResult, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let member: FixtureUser;
let otherMember: FixtureUser;
let outsider: FixtureUser;
let outsiderFriend: FixtureUser;
let memberToken: string;
let outsiderToken: string;

/** member and otherMember's conversation, and its messages. */
let secretId: number;
let secretMessageIds: string[];
/** The outsider's own conversation (with outsiderFriend). */
let outsiderConversationId: number;
let outsiderMessageId: string;
/** Ids nothing has: beyond every row written here. */
let missingConversationId: number;
let missingMessageId: string;

beforeAll(async () => {
  api = await startTestApi();
  const db = api.database.pool;
  member = await insertUser(db, 'Member');
  otherMember = await insertUser(db, 'OtherMember');
  outsider = await insertUser(db, 'Outsider');
  outsiderFriend = await insertUser(db, 'OutsiderFriend');
  const start = Date.parse('2026-03-01T10:00:00.000Z');
  secretId = await insertConversation(db, { participants: [member.id, otherMember.id], title: 'Secret', createdAt: new Date(start) });
  secretMessageIds = await insertMessages(db, secretId, [
    { authorId: member.id, body: 'the plan', at: new Date(start + 60_000) },
    { authorId: otherMember.id, body: 'agreed', at: new Date(start + 120_000) },
  ]);
  // A second conversation of the member, which the outsider's friend is in too.
  await insertConversation(db, { participants: [member.id, otherMember.id, outsiderFriend.id], title: 'Also mine', createdAt: new Date(start) });
  outsiderConversationId = await insertConversation(db, { participants: [outsider.id, outsiderFriend.id], createdAt: new Date(start) });
  outsiderMessageId = (await insertMessages(db, outsiderConversationId, [{ authorId: outsiderFriend.id, at: new Date(start + 30_000) }]))[0]!;
  const { rows } = await db.query<{ conversation: number; message: string }>(
    'SELECT (SELECT max(id) FROM conversations) + 1000 AS conversation, ((SELECT max(id) FROM messages) + 1000)::text AS message',
  );
  missingConversationId = rows[0]!.conversation;
  missingMessageId = rows[0]!.message;
  memberToken = await api.tokenFor(member.id);
  outsiderToken = await api.tokenFor(outsider.id);
});
afterAll(async () => {
  await api.close();
});

const CONVERSATION = 'query ($id: ID!) { conversation(id: $id) { id title messages { edges { node { id body } } } } }';
const NODE = 'query ($id: ID!) { node(id: $id) { __typename id ... on Message { body } ... on Conversation { title } } }';
const SEARCH = 'query ($id: ID!) { searchMessages(query: "plan", conversationId: $id) { edges { node { id body } } } }';

/** What a client can observe of a refusal, with the id it asked for blanked out. */
function observable(result: GraphQLResult<unknown>, id: string) {
  return {
    status: result.status,
    data: result.data,
    errors: result.errors?.map((error) => ({ ...error, message: error.message.split(id).join('<id>') })),
  };
}

/**
 * A path into a conversation: its query, the ids it is sent with, the
 * field it answers in, and what a participant's answer holds (the id
 * asked for, or what it found).
 */
type Path = [name: string, query: string, existing: () => string, missing: () => string, field: string, shows: () => string];

const PATHS: Path[] = [
  [
    'conversation(id)',
    CONVERSATION,
    () => toGlobalId('Conversation', secretId),
    () => toGlobalId('Conversation', missingConversationId),
    'conversation',
    () => toGlobalId('Conversation', secretId),
  ],
  [
    'node(conversation id)',
    NODE,
    () => toGlobalId('Conversation', secretId),
    () => toGlobalId('Conversation', missingConversationId),
    'node',
    () => toGlobalId('Conversation', secretId),
  ],
  [
    'node(message id)',
    NODE,
    () => toGlobalId('Message', secretMessageIds[0]!),
    () => toGlobalId('Message', missingMessageId),
    'node',
    () => toGlobalId('Message', secretMessageIds[0]!),
  ],
  [
    'searchMessages(conversationId)',
    SEARCH,
    () => toGlobalId('Conversation', secretId),
    () => toGlobalId('Conversation', missingConversationId),
    'searchMessages',
    () => toGlobalId('Message', secretMessageIds[0]!),
  ],
];

describe.each(PATHS)('%s', (_name, query, existing, missing, field, shows) => {
  // searchMessages is non-null: its error nulls the whole answer.
  const refused = field === 'searchMessages' ? null : { [field]: null };

  it('answers a participant (the rows exist)', async () => {
    const result = await api.request<Record<string, unknown>>(query, { id: existing() }, { token: memberToken });
    expect(result.errors).toBeUndefined();
    expect(JSON.stringify(result.data![field])).toContain(shows());
  });

  it('is NOT_FOUND to a signed-in non-participant', async () => {
    const result = await api.request(query, { id: existing() }, { token: outsiderToken });
    expect(result.data).toEqual(refused);
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
    expect(result.errors![0]!.path).toEqual([field]);
    // Nothing of the conversation leaks through the message.
    expect(JSON.stringify(result)).not.toMatch(/Secret|the plan|agreed/);
  });

  it('is NOT_FOUND for an id nothing has', async () => {
    const result = await api.request(query, { id: missing() }, { token: outsiderToken });
    expect(result.data).toEqual(refused);
    expect(errorCodes(result)).toEqual(['NOT_FOUND']);
  });

  it('cannot be told apart: existing-but-not-yours answers like nothing at all', async () => {
    const hidden = await api.request(query, { id: existing() }, { token: outsiderToken });
    const absent = await api.request(query, { id: missing() }, { token: outsiderToken });
    expect(hidden.errors).toHaveLength(1);
    expect(observable(hidden, existing())).toEqual(observable(absent, missing()));
    // The member's answer differs, so the comparison above is not vacuous.
    const seen = await api.request(query, { id: existing() }, { token: memberToken });
    expect(observable(seen, existing())).not.toEqual(observable(hidden, existing()));
  });

  it('is UNAUTHENTICATED signed out, whether or not it exists', async () => {
    for (const id of [existing(), missing()]) {
      const result = await api.request(query, { id });
      expect(result.data).toEqual(refused);
      expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    }
  });
});

describe('other paths into a conversation', () => {
  it("searchMessages without a conversation finds the member's messages and none of the outsider's conversations, and the reverse", async () => {
    const query = 'query ($q: String!) { searchMessages(query: $q, orderBy: NEWEST) { edges { node { id conversation { id } } } } }';
    const asMember = await api.request<{ searchMessages: { edges: { node: { id: string } }[] } }>(
      query,
      { q: 'plan or agreed or message' },
      { token: memberToken },
    );
    expect(asMember.errors).toBeUndefined();
    expect(asMember.data!.searchMessages.edges.map((edge) => edge.node.id).sort()).toEqual(secretMessageIds.map((id) => toGlobalId('Message', id)).sort());
    const asOutsider = await api.request<{ searchMessages: { edges: { node: { id: string } }[] } }>(
      query,
      { q: 'plan or agreed or message' },
      { token: outsiderToken },
    );
    expect(asOutsider.data!.searchMessages.edges.map((edge) => edge.node.id)).toEqual([toGlobalId('Message', outsiderMessageId)]);
  });

  it("Message.conversation of a visible message is the message's conversation", async () => {
    const result = await api.request<{ node: { conversation: { id: string; title: string; messages: { edges: { node: { id: string } }[] } } } }>(
      'query ($id: ID!) { node(id: $id) { ... on Message { conversation { id title messages { edges { node { id } } } } } } }',
      { id: toGlobalId('Message', secretMessageIds[1]!) },
      { token: memberToken },
    );
    expect(result.errors).toBeUndefined();
    const conversation = result.data!.node.conversation;
    expect(conversation.id).toBe(toGlobalId('Conversation', secretId));
    expect(conversation.title).toBe('Secret');
    expect(conversation.messages.edges.map((edge) => edge.node.id).sort()).toEqual(secretMessageIds.map((id) => toGlobalId('Message', id)).sort());
  });

  it("the outsider's own message and conversation are theirs to read, and not the member's", async () => {
    const id = toGlobalId('Message', outsiderMessageId);
    const own = await api.request<{ node: { id: string } | null }>(NODE, { id }, { token: outsiderToken });
    expect(own.errors).toBeUndefined();
    expect(own.data!.node?.id).toBe(id);
    const other = await api.request(NODE, { id }, { token: memberToken });
    expect(errorCodes(other)).toEqual(['NOT_FOUND']);
  });
});

const CONVERSATIONS_OF = 'query ($id: ID!) { user(id: $id) { id username conversations { totalCount edges { node { id } } } } }';

describe('User.conversations', () => {
  it('is UNAUTHENTICATED signed out (the rest of the user still answers)', async () => {
    const result = await api.request<{ user: { id: string; conversations: unknown } }>(CONVERSATIONS_OF, { id: toGlobalId('User', member.id) });
    expect(errorCodes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.errors![0]!.path).toEqual(['user', 'conversations']);
    expect(result.data!.user).toEqual({ id: toGlobalId('User', member.id), username: member.username, conversations: null });
  });

  it("is FORBIDDEN on another user's", async () => {
    const result = await api.request<{ user: { conversations: unknown } }>(CONVERSATIONS_OF, { id: toGlobalId('User', member.id) }, { token: outsiderToken });
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
    expect(result.errors![0]!.path).toEqual(['user', 'conversations']);
    expect(result.data!.user.conversations).toBeNull();
  });

  it("is FORBIDDEN on a fellow participant's, reached through a conversation", async () => {
    const result = await api.request<{ conversation: { participants: { id: string; conversations: { totalCount: number } | null }[] } }>(
      'query ($id: ID!) { conversation(id: $id) { participants { id conversations { totalCount } } } }',
      { id: toGlobalId('Conversation', secretId) },
      { token: memberToken },
    );
    const participants = result.data!.conversation.participants;
    expect(participants).toHaveLength(2);
    for (const participant of participants) {
      if (participant.id === toGlobalId('User', member.id)) expect(participant.conversations?.totalCount).toBe(2);
      else expect(participant.conversations).toBeNull();
    }
    expect(errorCodes(result)).toEqual(['FORBIDDEN']);
  });

  it("is the user's own through user(id) as well as viewer", async () => {
    const result = await api.request<{ user: { conversations: { totalCount: number } } }>(
      CONVERSATIONS_OF,
      { id: toGlobalId('User', member.id) },
      { token: memberToken },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.user.conversations.totalCount).toBe(2);
  });

  it("viewer.conversations lists the viewer's conversations only", async () => {
    const VIEWER = 'query { viewer { conversations(first: 100) { totalCount edges { node { id } } } } }';
    const ids = async (userToken: string) => {
      const result = await api.request<{ viewer: { conversations: { totalCount: number; edges: { node: { id: string } }[] } } }>(
        VIEWER,
        {},
        { token: userToken },
      );
      expect(result.errors).toBeUndefined();
      const { totalCount, edges } = result.data!.viewer.conversations;
      expect(edges).toHaveLength(totalCount);
      return edges.map((edge) => edge.node.id);
    };
    const { rows } = await api.database.pool.query<{ user_id: number; conversation_id: number }>(
      'SELECT user_id, conversation_id FROM conversation_participants WHERE user_id = ANY($1::int[])',
      [[member.id, outsider.id]],
    );
    const expected = (userId: number) =>
      rows
        .filter((row) => row.user_id === userId)
        .map((row) => toGlobalId('Conversation', row.conversation_id))
        .sort();
    expect(expected(member.id)).toHaveLength(2);
    expect((await ids(memberToken)).sort()).toEqual(expected(member.id));
    expect((await ids(outsiderToken)).sort()).toEqual(expected(outsider.id));
    expect(await ids(outsiderToken)).not.toContain(toGlobalId('Conversation', secretId));
  });
});
