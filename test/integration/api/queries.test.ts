// The read side of the API over HTTP: the viewer and its token, users,
// Query.node, the fields of users, conversations and messages, and how bad
// ids are refused. Expected values come from the fixtures written here.
import { SignJWT } from 'jose';
import { ProfileDocument, ViewerDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { errorCodes, startTestApi, TEST_JWT_SECRET, type TestApi } from '../../support/api.js';
import { insertConversation, insertMessages, insertUser, refreshStats, setLastRead, type FixtureMessage, type FixtureUser } from '../../support/fixtures.js';

const DAY = 24 * 60 * 60 * 1000;
const MINUTE = 60_000;
const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

let api: TestApi;
let alice: FixtureUser;
let bob: FixtureUser;
let carol: FixtureUser;
let dave: FixtureUser;
let token: string;

// alice and bob's direct conversation, and a group carol started, bob and alice joining later.
let directId: number;
let groupId: number;
let emptyId: number;
const groupStart = Date.parse('2026-02-01T08:00:00.000Z');
let groupMessages: (FixtureMessage & { id: string })[];
/** Where alice has read the group up to. */
const aliceReadAt = new Date(groupStart + 30 * MINUTE);

// A user with activity spread over the last 40 days, for UserStats.
let active: FixtureUser;
/** Days ago of each message of `active`. */
const ACTIVE_DAYS_AGO = [0, 0, 1, 2, 4, 5, 5, 9, 10, 11, 12, 40];
let activeMessageTimes: Date[];

beforeAll(async () => {
  api = await startTestApi();
  const db = api.database.pool;
  alice = await insertUser(db, 'Alice');
  bob = await insertUser(db, 'Bob');
  carol = await insertUser(db, 'Carol');
  dave = await insertUser(db, 'Dave');
  token = await api.tokenFor(alice.id);

  directId = await insertConversation(db, { participants: [alice.id, bob.id], createdAt: new Date(groupStart - DAY) });
  await insertMessages(db, directId, [
    { authorId: alice.id, at: new Date(groupStart - DAY + MINUTE) },
    { authorId: bob.id, at: new Date(groupStart - DAY + 2 * MINUTE) },
  ]);

  groupId = await insertConversation(db, { participants: [carol.id, alice.id, bob.id], title: 'Weekend plans', createdAt: new Date(groupStart) });
  // Joined in the order carol, bob, alice: neither the order of ids nor of insertion.
  await db.query(`UPDATE conversation_participants SET joined_at = $2 WHERE conversation_id = $1 AND user_id = $3`, [
    groupId,
    new Date(groupStart + 2 * MINUTE),
    alice.id,
  ]);
  await db.query(`UPDATE conversation_participants SET joined_at = $2 WHERE conversation_id = $1 AND user_id = $3`, [
    groupId,
    new Date(groupStart + MINUTE),
    bob.id,
  ]);
  const authors = [carol.id, alice.id, bob.id, bob.id, alice.id, carol.id];
  const messages: FixtureMessage[] = Array.from({ length: 18 }, (_unused, index) => ({
    authorId: authors[index % authors.length]!,
    body: `group message ${index}`,
    // Every 5 minutes; the last two at the same time (the larger id is the newer).
    at: new Date(groupStart + Math.min(index, 16) * 5 * MINUTE + 3 * MINUTE),
  }));
  // One exactly at alice's read position: read, as it is not after it.
  messages[3]!.at = aliceReadAt;
  const ids = await insertMessages(db, groupId, messages);
  groupMessages = messages.map((message, index) => ({ ...message, id: ids[index]! }));
  await setLastRead(db, groupId, alice.id, aliceReadAt);

  emptyId = await insertConversation(db, { participants: [alice.id, dave.id], title: 'Nothing yet', createdAt: new Date(groupStart - 2 * DAY) });

  active = await insertUser(db, 'Active');
  const activity = await insertConversation(db, { participants: [active.id, dave.id], createdAt: new Date(Date.now() - 50 * DAY) });
  const now = Date.now();
  activeMessageTimes = ACTIVE_DAYS_AGO.map((days, index) => new Date(now - days * DAY - (index + 1) * 1000));
  await insertMessages(
    db,
    activity,
    activeMessageTimes.map((at) => ({ authorId: active.id, at })),
  );
  await refreshStats(db);
});
afterAll(async () => {
  await api.close();
});

/** A token as another issuer (or a clock in the past) would sign it. */
async function signToken(options: { subject: string; secret?: string; expiresAt?: number }): Promise<string> {
  const expiresAt = options.expiresAt ?? Math.floor(Date.now() / 1000) + 3600;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.subject)
    .setIssuedAt(Math.min(expiresAt - 60, Math.floor(Date.now() / 1000)))
    .setExpirationTime(expiresAt)
    .sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

const VIEWER = 'query { viewer { id username } }';

describe('viewer', () => {
  it('is the signed-in user, with their email', async () => {
    const result = await api.request(ViewerDocument, {}, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.viewer).toMatchObject({
      id: toGlobalId('User', alice.id),
      username: alice.username,
      displayName: 'Alice',
      email: `${alice.username}@example.test`,
      level: 1,
    });
  });

  it('is null without a token, and no error', async () => {
    const result = await api.request(ViewerDocument, {});
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: null });
  });

  it('accepts a token this test signs itself (so the refusals below are about the token, not the signing)', async () => {
    const result = await api.request<{ viewer: { id: string } | null }>(VIEWER, {}, { token: await signToken({ subject: String(bob.id) }) });
    expect(result.data!.viewer?.id).toBe(toGlobalId('User', bob.id));
  });

  it.each([
    ['a token that is no JWT', () => 'Bearer not.a.jwt'],
    ['a scheme other than Bearer', async () => `Basic ${await api.tokenFor(alice.id)}`],
    ['Bearer without a token', () => 'Bearer '],
    [
      'a token with its payload changed',
      async () => {
        const [header, , signature] = (await api.tokenFor(alice.id)).split('.');
        return `Bearer ${header}.${raw(JSON.stringify({ sub: String(bob.id), exp: Math.floor(Date.now() / 1000) + 3600 }))}.${signature}`;
      },
    ],
    [
      'a token signed with another secret',
      async () => `Bearer ${await signToken({ subject: String(alice.id), secret: 'another-secret-0123456789abcdef-xyz' })}`,
    ],
    ['an expired token', async () => `Bearer ${await signToken({ subject: String(alice.id), expiresAt: Math.floor(Date.now() / 1000) - 60 })}`],
    ['a token whose subject is not a user id', async () => `Bearer ${await signToken({ subject: 'alice' })}`],
  ])('is null, without an error, for %s', async (_case, header) => {
    const result = await api.request<{ viewer: unknown }>(VIEWER, {}, { headers: { authorization: await header() } });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: null });
  });
});

const USER = 'query ($id: ID!) { user(id: $id) { id username displayName email } }';

describe('user and userByUsername', () => {
  it('user(id) finds a user, public fields to anyone', async () => {
    const result = await api.request<{ user: { id: string; username: string; displayName: string; email: string | null } | null }>(USER, {
      id: toGlobalId('User', bob.id),
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.user).toEqual({ id: toGlobalId('User', bob.id), username: bob.username, displayName: 'Bob', email: null });
  });

  it('user(id) of an id no user has is null, without an error', async () => {
    const result = await api.request(USER, { id: toGlobalId('User', 2_000_000_000) }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ user: null });
  });

  it.each([
    ['as stored', (name: string) => name],
    ['in capitals', (name: string) => name.toUpperCase()],
    ['with a leading @', (name: string) => `@${name}`],
    ['with a leading @, mixed case and spaces around', (name: string) => ` @${name[0]!.toUpperCase()}${name.slice(1)} `],
  ])('userByUsername finds a user by username %s', async (_case, spell) => {
    const result = await api.request(ProfileDocument, { username: spell(carol.username) });
    expect(result.errors).toBeUndefined();
    expect(result.data!.userByUsername?.id).toBe(toGlobalId('User', carol.id));
    expect(result.data!.userByUsername?.username).toBe(carol.username);
  });

  it('userByUsername of a name nobody has is null, without an error', async () => {
    const result = await api.request(ProfileDocument, { username: `${carol.username}_nobody` });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ userByUsername: null });
  });
});

describe('User.email', () => {
  const EMAILS = `query ($id: ID!, $conversation: ID!) {
    viewer { email }
    user(id: $id) { email }
    conversation(id: $conversation) { participants { id email } }
  }`;

  it("is the user's own only: for others null, also through a conversation's participants", async () => {
    const result = await api.request<{
      viewer: { email: string | null };
      user: { email: string | null };
      conversation: { participants: { id: string; email: string | null }[] };
    }>(EMAILS, { id: toGlobalId('User', bob.id), conversation: toGlobalId('Conversation', groupId) }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.viewer.email).toBe(`${alice.username}@example.test`);
    expect(result.data!.user.email).toBeNull();
    const participants = result.data!.conversation.participants;
    expect(participants).toHaveLength(3);
    for (const participant of participants) {
      expect(participant.email).toBe(participant.id === toGlobalId('User', alice.id) ? `${alice.username}@example.test` : null);
    }
  });

  it('is null to anyone signed out, the owner included', async () => {
    const result = await api.request<{ user: { email: string | null } }>(USER, { id: toGlobalId('User', alice.id) });
    expect(result.errors).toBeUndefined();
    expect(result.data!.user.email).toBeNull();
  });

  it("is the user's own through user(id) too", async () => {
    const result = await api.request<{ user: { email: string | null } }>(USER, { id: toGlobalId('User', alice.id) }, { token });
    expect(result.data!.user.email).toBe(`${alice.username}@example.test`);
  });
});

describe('User.stats', () => {
  /** Figures of `daysAgo` (one entry per message) as the stats view defines them. */
  function expectedStats(daysAgo: number[]) {
    const days = [...new Set(daysAgo)].sort((a, b) => a - b);
    const runs: number[][] = [];
    for (const day of days) {
      const run = runs.at(-1);
      if (run && run.at(-1) === day - 1) run.push(day);
      else runs.push([day]);
    }
    return {
      totalMessages: daysAgo.length,
      messagesLast7Days: daysAgo.filter((days) => days < 7).length,
      messagesLast30Days: daysAgo.filter((days) => days < 30).length,
      // A run is current when it reaches today or yesterday.
      currentStreak: runs[0] && runs[0][0]! <= 1 ? runs[0].length : 0,
      maxStreak: Math.max(0, ...runs.map((run) => run.length)),
    };
  }

  it("matches the user's messages after a refresh", async () => {
    const result = await api.request(ProfileDocument, { username: active.username });
    expect(result.errors).toBeUndefined();
    const user = result.data!.userByUsername!;
    const expected = expectedStats(ACTIVE_DAYS_AGO);
    // The fixture is meant to tell the windows and the streaks apart.
    expect(new Set([expected.messagesLast7Days, expected.messagesLast30Days, expected.totalMessages]).size).toBe(3);
    expect(expected.currentStreak).toBeGreaterThan(1);
    expect(expected.maxStreak).toBeGreaterThan(expected.currentStreak);
    expect(user.stats).toMatchObject(expected);
    const newest = new Date(Math.max(...activeMessageTimes.map((at) => at.getTime())));
    expect(user.stats!.lastActivityAt).toBe(newest.toISOString());
    expect(user.lastActiveAt).toBe(newest.toISOString());
    expect(user.xp).toBe(10 * ACTIVE_DAYS_AGO.length);
    const refreshedAt = Date.parse(user.stats!.refreshedAt);
    expect(refreshedAt).toBeLessThanOrEqual(Date.now());
    expect(refreshedAt).toBeGreaterThan(Date.now() - 10 * MINUTE);
  });

  it('is all zeros for a user without messages', async () => {
    const result = await api.request(ProfileDocument, { username: dave.username });
    expect(result.data!.userByUsername!.stats).toMatchObject(expectedStats([]));
    expect(result.data!.userByUsername!.stats!.lastActivityAt).toBeNull();
  });

  it('is null for a user created since the last refresh', async () => {
    const late = await insertUser(api.database.pool, 'Late');
    const result = await api.request(ProfileDocument, { username: late.username });
    expect(result.errors).toBeUndefined();
    expect(result.data!.userByUsername!.id).toBe(toGlobalId('User', late.id));
    expect(result.data!.userByUsername!.stats).toBeNull();
  });
});

interface ConversationFields {
  id: string;
  title: string | null;
  kind: 'DIRECT' | 'GROUP';
  createdAt: string;
  lastMessageAt: string | null;
  unreadCount: number;
  participants: { id: string }[];
  lastMessage: { id: string; body: string; createdAt: string; author: { id: string } } | null;
  messages: { totalCount: number };
}

const CONVERSATION = `query ($id: ID!) {
  conversation(id: $id) {
    id title kind createdAt lastMessageAt unreadCount
    participants { id }
    lastMessage { id body createdAt author { id } }
    messages(first: 0) { totalCount }
  }
}`;

async function conversationAs(userToken: string, id: number) {
  const result = await api.request<{ conversation: ConversationFields | null }>(CONVERSATION, { id: toGlobalId('Conversation', id) }, { token: userToken });
  expect(result.errors).toBeUndefined();
  return result.data!.conversation!;
}

/** The newest of `messages`: the latest time, then the largest id. */
function newest(messages: (FixtureMessage & { id: string })[]) {
  return [...messages].sort((a, b) => b.at.getTime() - a.at.getTime() || Number(BigInt(b.id) - BigInt(a.id)))[0]!;
}

describe('Conversation', () => {
  it('a group: its title, kind, participants in the order they joined, last message, counts', async () => {
    const conversation = await conversationAs(token, groupId);
    const last = newest(groupMessages);
    expect(conversation).toMatchObject({
      id: toGlobalId('Conversation', groupId),
      title: 'Weekend plans',
      kind: 'GROUP',
      createdAt: new Date(groupStart).toISOString(),
      lastMessageAt: last.at.toISOString(),
    });
    expect(conversation.participants.map((user) => user.id)).toEqual([carol.id, bob.id, alice.id].map((id) => toGlobalId('User', id)));
    expect(conversation.lastMessage).toEqual({
      id: toGlobalId('Message', last.id),
      body: last.body,
      createdAt: last.at.toISOString(),
      author: { id: toGlobalId('User', last.authorId) },
    });
    expect(conversation.messages.totalCount).toBe(groupMessages.length);
  });

  it("a group's unread count: messages by others after the viewer's last read, for each viewer", async () => {
    const unreadFor = (userId: number, readAt: Date | null) =>
      groupMessages.filter((message) => message.authorId !== userId && (readAt === null || message.at > readAt)).length;
    const expectedForAlice = unreadFor(alice.id, aliceReadAt);
    // Alice's own messages after her read position, and the one at it, are not unread.
    expect(expectedForAlice).toBeLessThan(groupMessages.filter((message) => message.at > aliceReadAt).length);
    expect(expectedForAlice).toBeGreaterThan(0);
    expect((await conversationAs(token, groupId)).unreadCount).toBe(expectedForAlice);
    // Bob has never marked it read: everything by others.
    const bobToken = await api.tokenFor(bob.id);
    expect((await conversationAs(bobToken, groupId)).unreadCount).toBe(unreadFor(bob.id, null));

    // Reading up to the newest leaves nothing unread.
    await setLastRead(api.database.pool, groupId, bob.id, newest(groupMessages).at);
    expect((await conversationAs(bobToken, groupId)).unreadCount).toBe(0);
    await setLastRead(api.database.pool, groupId, bob.id, null);
  });

  it('a direct conversation: no title, kind DIRECT', async () => {
    const conversation = await conversationAs(token, directId);
    expect(conversation.title).toBeNull();
    expect(conversation.kind).toBe('DIRECT');
    expect(conversation.participants.map((user) => user.id).sort()).toEqual([alice.id, bob.id].map((id) => toGlobalId('User', id)).sort());
    expect(conversation.messages.totalCount).toBe(2);
    expect(conversation.lastMessage?.author.id).toBe(toGlobalId('User', bob.id));
  });

  it('a conversation without messages: no last message, lastMessageAt null, nothing unread', async () => {
    const conversation = await conversationAs(token, emptyId);
    expect(conversation).toMatchObject({ kind: 'GROUP', title: 'Nothing yet', lastMessageAt: null, lastMessage: null, unreadCount: 0 });
    expect(conversation.messages.totalCount).toBe(0);
  });

  it("viewer.conversations counts the viewer's conversations", async () => {
    const result = await api.request<{ viewer: { conversations: { totalCount: number; edges: { node: { id: string } }[] } } }>(
      'query { viewer { conversations(first: 100) { totalCount edges { node { id } } } } }',
      {},
      { token },
    );
    expect(result.errors).toBeUndefined();
    const expected = [directId, groupId, emptyId].map((id) => toGlobalId('Conversation', id));
    expect(result.data!.viewer.conversations.totalCount).toBe(expected.length);
    expect(result.data!.viewer.conversations.edges.map((edge) => edge.node.id).sort()).toEqual(expected.sort());
  });
});

const NODE = `query ($id: ID!) {
  node(id: $id) {
    __typename id
    ... on User { username }
    ... on Conversation { title }
    ... on Message { body author { id } conversation { id title } }
    ... on UserStats { totalMessages }
  }
}`;

interface NodeResult {
  node: {
    __typename: string;
    id: string;
    username?: string;
    title?: string | null;
    body?: string;
    author?: { id: string };
    conversation?: { id: string; title: string | null };
    totalMessages?: number;
  } | null;
}

describe('Conversation.recentMessages', () => {
  const PREVIEW = `query ($id: ID!, $first: Int) {
    conversation(id: $id) { recentMessages(first: $first) { id } messages(first: $first) { edges { node { id } } } }
  }`;

  it('is the first page of messages, as a list', async () => {
    const result = await api.request<{ conversation: { recentMessages: { id: string }[]; messages: { edges: { node: { id: string } }[] } } }>(
      PREVIEW,
      { id: toGlobalId('Conversation', groupId), first: 4 },
      { token },
    );
    expect(result.errors).toBeUndefined();
    const { recentMessages, messages } = result.data!.conversation;
    expect(recentMessages).toHaveLength(4);
    expect(recentMessages).toEqual(messages.edges.map((edge) => edge.node));
  });

  it('refuses a size outside 0 to 100 as BAD_USER_INPUT naming first', async () => {
    const result = await api.request(PREVIEW, { id: toGlobalId('Conversation', groupId), first: 101 }, { token });
    // Both fields refuse it; graphql-js reports the first to fail (the
    // conversation is null by then), compiled execution both.
    expect(new Set(errorCodes(result))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(result.errors!.map((error) => error.extensions!.field)).toContain('first');
    expect(result.errors!.map((error) => error.path?.join('.'))).toContain('conversation.recentMessages');
    expect(result.data).toEqual({ conversation: null });
  });
});

describe('node', () => {
  it('finds a User', async () => {
    const id = toGlobalId('User', carol.id);
    const result = await api.request<NodeResult>(NODE, { id }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toEqual({ __typename: 'User', id, username: carol.username });
  });

  it('finds a User signed out: profiles are public', async () => {
    const id = toGlobalId('User', carol.id);
    const result = await api.request<NodeResult>(NODE, { id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node?.__typename).toBe('User');
  });

  it('finds a Conversation', async () => {
    const id = toGlobalId('Conversation', groupId);
    const result = await api.request<NodeResult>(NODE, { id }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toEqual({ __typename: 'Conversation', id, title: 'Weekend plans' });
  });

  it('finds a Message, with its author and conversation', async () => {
    const message = groupMessages[4]!;
    const id = toGlobalId('Message', message.id);
    const result = await api.request<NodeResult>(NODE, { id }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toEqual({
      __typename: 'Message',
      id,
      body: message.body,
      author: { id: toGlobalId('User', message.authorId) },
      conversation: { id: toGlobalId('Conversation', groupId), title: 'Weekend plans' },
    });
  });

  it("finds a user's statistics by the id User.stats gives them, one of their own", async () => {
    const profile = await api.request(ProfileDocument, { username: active.username });
    const id = profile.data!.userByUsername!.stats!.id;
    expect(id).toBe(toGlobalId('UserStats', active.id));
    expect(id).not.toBe(profile.data!.userByUsername!.id);
    const result = await api.request<NodeResult>(NODE, { id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toEqual({ __typename: 'UserStats', id, totalMessages: ACTIVE_DAYS_AGO.length });
  });

  it('is null for the statistics of a user created since the last refresh', async () => {
    const late = await insertUser(api.database.pool, 'LateNode');
    const result = await api.request<NodeResult>(NODE, { id: toGlobalId('UserStats', late.id) });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toBeNull();
  });

  it('is null for a user id no user has', async () => {
    const result = await api.request<NodeResult>(NODE, { id: toGlobalId('User', 2_000_000_000) }, { token });
    expect(result.errors).toBeUndefined();
    expect(result.data!.node).toBeNull();
  });
});

describe('Message', () => {
  it("author and conversation, through a conversation's messages", async () => {
    const result = await api.request<{
      conversation: { id: string; messages: { edges: { node: { id: string; author: { id: string }; conversation: { id: string } } }[] } };
    }>(
      'query ($id: ID!) { conversation(id: $id) { id messages(first: 100) { edges { node { id author { id } conversation { id } } } } } }',
      { id: toGlobalId('Conversation', groupId) },
      { token },
    );
    expect(result.errors).toBeUndefined();
    const edges = result.data!.conversation.messages.edges;
    expect(edges).toHaveLength(groupMessages.length);
    const byId = new Map(groupMessages.map((message) => [toGlobalId('Message', message.id), message]));
    for (const { node } of edges) {
      expect(node.author.id).toBe(toGlobalId('User', byId.get(node.id)!.authorId));
      expect(node.conversation.id).toBe(toGlobalId('Conversation', groupId));
    }
  });
});

describe('bad ids', () => {
  const malformed = ['', 'garbage', raw('User'), raw('Post:1'), raw('User:0'), raw('User:abc'), 'VXNlcjox'.slice(0, 5)];

  it.each([
    ['user', 'query ($id: ID!) { user(id: $id) { id } }'],
    ['conversation', 'query ($id: ID!) { conversation(id: $id) { id } }'],
    ['node', 'query ($id: ID!) { node(id: $id) { id } }'],
  ])('%s(id) refuses malformed ids as BAD_USER_INPUT naming the argument', async (field, query) => {
    for (const id of malformed) {
      const result = await api.request(query, { id }, { token });
      expect(result.data).toEqual({ [field]: null });
      expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
      expect(result.errors![0]!.extensions?.field).toBe('id');
      expect(result.errors![0]!.path).toEqual([field]);
    }
  });

  it.each([
    ['a Message id to conversation(id)', 'query ($id: ID!) { conversation(id: $id) { id } }', () => toGlobalId('Message', groupMessages[0]!.id)],
    ['a User id to conversation(id)', 'query ($id: ID!) { conversation(id: $id) { id } }', () => toGlobalId('User', alice.id)],
    ['a Conversation id to user(id)', 'query ($id: ID!) { user(id: $id) { id } }', () => toGlobalId('Conversation', groupId)],
  ])('refuses %s as BAD_USER_INPUT', async (_case, query, id) => {
    const result = await api.request(query, { id: id() }, { token });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions?.field).toBe('id');
    expect(result.errors![0]!.message).toMatch(/expected the id of a (Conversation|User)/);
  });

  it.each([
    ['User', '2147483648'],
    ['Conversation', '2147483648'],
    ['Message', '9223372036854775808'],
  ])('refuses a %s id beyond its column (%s) as BAD_USER_INPUT, never a server error', async (type, id) => {
    const result = await api.request(NODE, { id: raw(`${type}:${id}`) }, { token });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions?.field).toBe('id');
  });
});
