// createConversation over HTTP: groups, direct conversations kept single
// (even under concurrent requests), the creator as owner, and input refused
// with BAD_USER_INPUT naming the field, leaving nothing half-written.
import type pg from 'pg';
import { CreateConversationDocument } from '../../../src/generated/graphql/operations.js';
import { fromGlobalId, toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type GraphQLResult, type TestApi } from '../../support/api.js';
import { expectOneError, expectRefusedBeforeRunning, snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertUser, refuseWrites, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

async function rowCounts(): Promise<{ conversations: number; participants: number }> {
  const { rows } = await pool.query<{ conversations: number; participants: number }>(
    `SELECT (SELECT count(*)::int FROM conversations) AS conversations,
            (SELECT count(*)::int FROM conversation_participants) AS participants`,
  );
  return rows[0]!;
}

const userId = (user: FixtureUser) => toGlobalId('User', user.id);

async function create(creator: FixtureUser, participants: (FixtureUser | string)[], title?: string | null) {
  return api.request(
    CreateConversationDocument,
    { participantIds: participants.map((user) => (typeof user === 'string' ? user : userId(user))), ...(title === undefined ? {} : { title }) },
    { token: await api.tokenFor(creator.id) },
  );
}

async function participantRows(conversationId: number) {
  const { rows } = await pool.query<{ user_id: number; role: string }>(
    'SELECT user_id, role FROM conversation_participants WHERE conversation_id = $1 ORDER BY user_id',
    [conversationId],
  );
  return rows;
}

async function conversationRow(conversationId: number) {
  const { rows } = await pool.query<{ title: string | null; kind: string; created_by: number; direct_key: string | null; last_message_at: Date | null }>(
    'SELECT title, kind, created_by, direct_key, last_message_at FROM conversations WHERE id = $1',
    [conversationId],
  );
  return rows[0];
}

const databaseId = (globalId: string) => Number(fromGlobalId(globalId, 'id').id);
const byId = (a: number, b: number) => a - b;

describe('createConversation', () => {
  it('creates a group with a title, the creator its owner and the others members', async () => {
    const [alice, bob, carol] = [await insertUser(pool, 'GAlice'), await insertUser(pool, 'GBob'), await insertUser(pool, 'GCarol')];
    const before = await rowCounts();
    const result = await create(alice, [bob, carol], '  Weekend plans  ');
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const conversation = result.data!.createConversation.conversation;
    expect(conversation).toMatchObject({ title: 'Weekend plans', kind: 'GROUP', lastMessageAt: null, unreadCount: 0, lastMessage: null });
    expect(conversation.participants.map((user) => user.id).sort()).toEqual([alice, bob, carol].map(userId).sort());

    const id = databaseId(conversation.id);
    expect(await conversationRow(id)).toEqual({ title: 'Weekend plans', kind: 'group', created_by: alice.id, direct_key: null, last_message_at: null });
    expect(await participantRows(id)).toEqual(
      [
        { user_id: alice.id, role: 'owner' },
        { user_id: bob.id, role: 'member' },
        { user_id: carol.id, role: 'member' },
      ].sort((a, b) => byId(a.user_id, b.user_id)),
    );
    expect(await rowCounts()).toEqual({ conversations: before.conversations + 1, participants: before.participants + 3 });
    // Each participant's inbox places it at its creation, the conversation's last activity.
    const { rows } = await pool.query<{ at: Date; created_at: Date }>(
      `SELECT p.last_activity_at AS at, c.created_at FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
       WHERE p.conversation_id = $1`,
      [id],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.at).toEqual(row.created_at);
  });

  it('makes a group of three or more without a title, and a group of two with one', async () => {
    const [alice, bob, carol] = [await insertUser(pool, 'UAlice'), await insertUser(pool, 'UBob'), await insertUser(pool, 'UCarol')];
    const untitled = await create(alice, [bob, carol]);
    expect(untitled.errors).toBeUndefined();
    expect(untitled.data!.createConversation.conversation).toMatchObject({ kind: 'GROUP', title: null });

    const titledPair = await create(alice, [bob], 'Just us');
    expect(titledPair.errors).toBeUndefined();
    expect(titledPair.data!.createConversation.conversation).toMatchObject({ kind: 'GROUP', title: 'Just us' });
    // Each call made a new group.
    expect(untitled.data!.createConversation.conversation.id).not.toBe(titledPair.data!.createConversation.conversation.id);
    const again = await create(alice, [bob], 'Just us');
    expect(again.data!.createConversation.conversation.id).not.toBe(titledPair.data!.createConversation.conversation.id);
  });

  it('makes one direct conversation per pair: A→B, B→A and A→B again return the same one', async () => {
    const [alice, bob] = [await insertUser(pool, 'DAlice'), await insertUser(pool, 'DBob')];
    const before = await rowCounts();
    const first = await create(alice, [bob]);
    expect(first.errors).toBeUndefined();
    const conversation = first.data!.createConversation.conversation;
    expect(conversation).toMatchObject({ kind: 'DIRECT', title: null });
    expect(conversation.participants.map((user) => user.id).sort()).toEqual([alice, bob].map(userId).sort());

    const reverse = await create(bob, [alice]);
    expect(reverse.errors).toBeUndefined();
    expect(reverse.data!.createConversation.conversation.id).toBe(conversation.id);
    const repeat = await create(alice, [bob, alice, bob]);
    expect(repeat.errors).toBeUndefined();
    expect(repeat.data!.createConversation.conversation.id).toBe(conversation.id);

    expect(await rowCounts()).toEqual({ conversations: before.conversations + 1, participants: before.participants + 2 });
    const id = databaseId(conversation.id);
    expect(await conversationRow(id)).toMatchObject({ kind: 'direct', created_by: alice.id, title: null });
    expect(await participantRows(id)).toEqual(
      [
        { user_id: alice.id, role: 'owner' },
        { user_id: bob.id, role: 'member' },
      ].sort((a, b) => byId(a.user_id, b.user_id)),
    );
  });

  it('returns the existing direct conversation with its state as the caller sees it', async () => {
    const [alice, bob] = [await insertUser(pool, 'EAlice'), await insertUser(pool, 'EBob')];
    const existing = await insertConversation(pool, { participants: [alice.id, bob.id], createdAt: new Date('2026-03-01T00:00:00Z') });
    const result = await create(bob, [alice]);
    expect(result.errors).toBeUndefined();
    expect(result.data!.createConversation.conversation.id).toBe(toGlobalId('Conversation', existing));
    expect(await participantRows(existing)).toHaveLength(2);
  });

  it('creates a single direct conversation for concurrent requests of the same pair', async () => {
    for (let round = 0; round < 3; round += 1) {
      const [alice, bob] = [await insertUser(pool, `CAlice${round}`), await insertUser(pool, `CBob${round}`)];
      const before = await rowCounts();
      const results = await Promise.all([create(alice, [bob]), create(bob, [alice])]);
      for (const result of results) expect(result.errors).toBeUndefined();
      const ids = results.map((result) => result.data!.createConversation.conversation.id);
      expect(ids[1]).toBe(ids[0]);
      expect(await rowCounts()).toEqual({ conversations: before.conversations + 1, participants: before.participants + 2 });
      const directKey = [alice.id, bob.id].sort(byId).join(':');
      const { rows } = await pool.query<{ id: number }>('SELECT id FROM conversations WHERE direct_key = $1', [directKey]);
      expect(rows.map((row) => toGlobalId('Conversation', row.id))).toEqual([ids[0]]);
    }
  });

  it('accepts 50 participants in all, the creator included', async () => {
    const creator = await insertUser(pool, 'Fifty');
    const others: FixtureUser[] = [];
    for (let index = 0; index < 49; index += 1) others.push(await insertUser(pool, `Member${index}`));
    const result = await create(creator, others, 'Fifty');
    expect(result.errors).toBeUndefined();
    expect(result.data!.createConversation.conversation.participants).toHaveLength(50);
    expect(await participantRows(databaseId(result.data!.createConversation.conversation.id))).toHaveLength(50);
  });

  it('accepts a title of 200 characters, counted as code points', async () => {
    const [alice, bob] = [await insertUser(pool, 'TAlice'), await insertUser(pool, 'TBob')];
    for (const title of ['t'.repeat(200), '🙂'.repeat(200)]) {
      const result = await create(alice, [bob], title);
      expect(result.errors).toBeUndefined();
      expect(result.data!.createConversation.conversation.title).toBe(title);
      expect((await conversationRow(databaseId(result.data!.createConversation.conversation.id)))!.title).toBe(title);
    }
  });

  it('writes nothing when adding the participants fails: the conversation and its participants are one transaction', async () => {
    const [alice, bob] = [await insertUser(pool, 'XAlice'), await insertUser(pool, 'XBob')];
    const allowWrites = await refuseWrites(pool, 'refuse_participant_for_test', {
      event: 'INSERT',
      table: 'conversation_participants',
      when: `NEW.user_id = ${bob.id}`,
    });
    try {
      const before = await snapshotTables(pool);
      for (const title of [undefined, 'A group']) {
        const error = expectOneError(await create(alice, [bob], title), 'INTERNAL_SERVER_ERROR');
        expect(error.message).toBe('Internal server error');
      }
      expect(await snapshotTables(pool)).toEqual(before);
    } finally {
      await allowWrites();
    }
    // Without the failure the same request succeeds: the direct key was not left taken.
    const retry = await create(alice, [bob]);
    expect(retry.errors).toBeUndefined();
    expect(await participantRows(databaseId(retry.data!.createConversation.conversation.id))).toHaveLength(2);
  });
});

describe('createConversation refuses', () => {
  let alice: FixtureUser;
  let bob: FixtureUser;
  let crowd: FixtureUser[];
  beforeAll(async () => {
    alice = await insertUser(pool, 'RAlice');
    bob = await insertUser(pool, 'RBob');
    crowd = [];
    for (let index = 0; index < 50; index += 1) crowd.push(await insertUser(pool, `Crowd${index}`));
  });

  /** Asserts the request fails with BAD_USER_INPUT on `field` and that no row changed. */
  async function expectRefused(request: () => Promise<GraphQLResult<unknown>>, field: string) {
    const counts = await rowCounts();
    const before = await snapshotTables(pool);
    const error = expectOneError(await request(), 'BAD_USER_INPUT', field);
    expect(await rowCounts()).toEqual(counts);
    expect(await snapshotTables(pool)).toEqual(before);
    return error;
  }

  it('an unknown user id, naming input.participantIds', async () => {
    const { rows } = await pool.query<{ next: number }>('SELECT coalesce(max(id), 0) + 1000 AS next FROM users');
    const unknown = toGlobalId('User', rows[0]!.next);
    const error = await expectRefused(() => create(alice, [bob, unknown], 'With a ghost'), 'input.participantIds');
    expect(error.message).toContain(String(rows[0]!.next));
    await expectRefused(() => create(alice, [unknown]), 'input.participantIds');
  });

  it('more than 50 participants, the creator included', async () => {
    expect(crowd).toHaveLength(50);
    const error = await expectRefused(() => create(alice, crowd, 'Too many'), 'input.participantIds');
    expect(error.message).toMatch(/50/);
  });

  it('a conversation with no one else: only yourself, or nobody', async () => {
    await expectRefused(() => create(alice, [alice]), 'input.participantIds');
    await expectRefused(() => create(alice, [alice, alice], 'Me, myself'), 'input.participantIds');
    await expectRefused(() => create(alice, []), 'input.participantIds');
  });

  it('a title over 200 characters (after trimming), naming input.title', async () => {
    await expectRefused(() => create(alice, [bob], 't'.repeat(201)), 'input.title');
    await expectRefused(() => create(alice, [bob], '🙂'.repeat(201)), 'input.title');
    await expectRefused(() => create(alice, [bob, crowd[0]!], `  ${'t'.repeat(201)}  `), 'input.title');
  });

  it('a global id of another type, naming the list item', async () => {
    const conversationId = await insertConversation(pool, { participants: [alice.id, crowd[1]!.id, crowd[2]!.id], title: 'Other type' });
    await expectRefused(() => create(alice, [bob, toGlobalId('Conversation', conversationId)], 'Wrong type'), 'input.participantIds[1]');
    await expectRefused(() => create(alice, [toGlobalId('Message', '1')]), 'input.participantIds[0]');
  });

  it('a malformed id, naming the list item', async () => {
    await expectRefused(() => create(alice, ['not-an-id']), 'input.participantIds[0]');
    await expectRefused(() => create(alice, [bob, crowd[3]!, toGlobalId('User', 'abc')], 'Malformed'), 'input.participantIds[2]');
    await expectRefused(() => create(alice, [bob, toGlobalId('User', '99999999999')]), 'input.participantIds[1]');
  });

  it('a title with a NUL character as bad input before running, not as an internal error', async () => {
    const before = await snapshotTables(pool);
    expectRefusedBeforeRunning(await create(alice, [bob], 'nul\u0000title'), 'BAD_USER_INPUT', '$title');
    expect(await snapshotTables(pool)).toEqual(before);
  });
});
