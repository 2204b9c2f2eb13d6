// leaveConversation, renameConversation and setTyping over HTTP: what each
// changes (read back from the database), and what each refuses.
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertUser, type FixtureUser } from '../../support/fixtures.js';
import { api, pool, useMutationApi } from '../../support/mutation-api.js';

useMutationApi();

async function people(name: string, count: number): Promise<FixtureUser[]> {
  const users: FixtureUser[] = [];
  for (let index = 0; index < count; index += 1) users.push(await insertUser(pool, `${name}${index}`));
  return users;
}

async function call(user: FixtureUser, query: string, variables: Record<string, unknown>) {
  return api.request(query, variables, { token: await api.tokenFor(user.id) });
}

const LEAVE = 'mutation L($id: ID!) { leaveConversation(input: { conversationId: $id }) { conversationId } }';
const RENAME = 'mutation R($id: ID!, $title: String!) { renameConversation(input: { conversationId: $id, title: $title }) { conversation { id title } } }';
const TYPING = 'mutation T($id: ID!) { setTyping(input: { conversationId: $id }) { expiresAt } }';
const codes = (result: { errors?: { extensions?: { code?: string } }[] }) => (result.errors ?? []).map((error) => error.extensions?.code);

describe('leaveConversation', () => {
  it('removes the participant, who then cannot read the conversation; the others still can', async () => {
    const users = await people('Leaver', 3);
    const conversationId = await insertConversation(pool, { participants: users.map((user) => user.id), title: 'Trio' });
    const id = toGlobalId('Conversation', conversationId);
    expect((await call(users[2]!, LEAVE, { id })).data).toEqual({ leaveConversation: { conversationId: id } });
    const { rows } = await pool.query<{ user_id: number }>('SELECT user_id FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id', [
      conversationId,
    ]);
    expect(rows.map((row) => row.user_id)).toEqual(users.slice(0, 2).map((user) => user.id));
    const query = 'query C($id: ID!) { conversation(id: $id) { id } }';
    expect(codes(await call(users[2]!, query, { id }))).toEqual(['NOT_FOUND']);
    expect((await call(users[0]!, query, { id })).data).toEqual({ conversation: { id } });
    // And once more: they are not in it any more.
    expect(codes(await call(users[2]!, LEAVE, { id }))).toEqual(['NOT_FOUND']);
  });

  it('refuses a direct conversation (BAD_USER_INPUT) and one the user is not in (NOT_FOUND), changing nothing', async () => {
    const [one, two, outsider] = await people('Direct', 3);
    const direct = toGlobalId('Conversation', await insertConversation(pool, { participants: [one!.id, two!.id] }));
    const group = toGlobalId('Conversation', await insertConversation(pool, { participants: [one!.id, two!.id], title: 'Two' }));
    const before = await snapshotTables(pool);
    expect(codes(await call(one!, LEAVE, { id: direct }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(outsider!, LEAVE, { id: group }))).toEqual(['NOT_FOUND']);
    expect(await snapshotTables(pool)).toEqual(before);
  });
});

describe('renameConversation', () => {
  it('sets a group’s title, trimmed, for any participant', async () => {
    const users = await people('Renamer', 2);
    const conversationId = await insertConversation(pool, { participants: users.map((user) => user.id), title: 'Old' });
    const id = toGlobalId('Conversation', conversationId);
    expect((await call(users[1]!, RENAME, { id, title: '  New  ' })).data).toEqual({ renameConversation: { conversation: { id, title: 'New' } } });
    const { rows } = await pool.query<{ title: string }>('SELECT title FROM conversations WHERE id = $1', [conversationId]);
    expect(rows[0]!.title).toBe('New');
  });

  it('refuses a direct conversation, an empty or too long title (BAD_USER_INPUT), and an outsider (NOT_FOUND), changing nothing', async () => {
    const [one, two, outsider] = await people('Titles', 3);
    const direct = toGlobalId('Conversation', await insertConversation(pool, { participants: [one!.id, two!.id] }));
    const group = toGlobalId('Conversation', await insertConversation(pool, { participants: [one!.id, two!.id], title: 'Kept' }));
    const before = await snapshotTables(pool);
    expect(codes(await call(one!, RENAME, { id: direct, title: 'A title' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(one!, RENAME, { id: group, title: '   ' }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(one!, RENAME, { id: group, title: 'x'.repeat(201) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await call(outsider!, RENAME, { id: group, title: 'Mine' }))).toEqual(['NOT_FOUND']);
    expect(await snapshotTables(pool)).toEqual(before);
  });
});

describe('setTyping', () => {
  it('stores nothing, answers when the typing shows until, and is NOT_FOUND outside the conversation', async () => {
    const [one, two, outsider] = await people('Typist', 3);
    const id = toGlobalId('Conversation', await insertConversation(pool, { participants: [one!.id, two!.id] }));
    const before = await snapshotTables(pool);
    const started = Date.now();
    const result = await call(one!, TYPING, { id });
    const expiresAt = Date.parse((result.data as { setTyping: { expiresAt: string } }).setTyping.expiresAt);
    expect(expiresAt - started).toBeGreaterThanOrEqual(5_000 - 1_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(5_000);
    expect(codes(await call(outsider!, TYPING, { id }))).toEqual(['NOT_FOUND']);
    expect(await snapshotTables(pool)).toEqual(before);
  });
});
