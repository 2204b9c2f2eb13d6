// editMessage over HTTP: by the author only, invisible outside the editor's
// conversations, with the same body rules as sendMessage; nothing written
// when refused.
import type pg from 'pg';
import { EditMessageDocument } from '../../../src/generated/graphql/operations.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { expectIndistinguishable, expectOneError, expectRefusedBeforeRunning, snapshotTables } from '../../support/assertions.js';
import { insertConversation, insertMessages, insertUser, type FixtureUser } from '../../support/fixtures.js';

let api: TestApi;
let pool: pg.Pool;

beforeAll(async () => {
  api = await startTestApi();
  pool = api.database.pool;
});
afterAll(() => api.close());

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

interface Fixture {
  author: FixtureUser;
  other: FixtureUser;
  outsider: FixtureUser;
  conversationId: number;
  /** By `author`, then by `other`. */
  messageIds: [string, string];
}

async function fixture(name: string): Promise<Fixture> {
  const author = await insertUser(pool, `${name}Author`);
  const other = await insertUser(pool, `${name}Other`);
  const outsider = await insertUser(pool, `${name}Outsider`);
  const conversationId = await insertConversation(pool, { participants: [author.id, other.id], createdAt: minutesAgo(60) });
  const ids = await insertMessages(pool, conversationId, [
    { authorId: author.id, body: 'original by author', at: minutesAgo(30) },
    { authorId: other.id, body: 'original by other', at: minutesAgo(20) },
  ]);
  return { author, other, outsider, conversationId, messageIds: [ids[0]!, ids[1]!] };
}

async function messageRow(id: string) {
  const { rows } = await pool.query<{ body: string; created_at: Date; edited_at: Date | null; author_id: number; conversation_id: number }>(
    'SELECT body, created_at, edited_at, author_id, conversation_id FROM messages WHERE id = $1',
    [id],
  );
  return rows[0]!;
}

describe('editMessage', () => {
  it("replaces the author's message body, trimmed, and sets editedAt", async () => {
    const { author, messageIds } = await fixture('Edit');
    const original = await messageRow(messageIds[0]);
    const untouched = await messageRow(messageIds[1]);
    const before = Date.now();
    const result = await api.request(
      EditMessageDocument,
      { messageId: toGlobalId('Message', messageIds[0]), body: '  \n edited text \t ' },
      { token: await api.tokenFor(author.id) },
    );
    const after = Date.now();
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const message = result.data!.editMessage.message;

    const row = await messageRow(messageIds[0]);
    expect(row.body).toBe('edited text');
    expect(row.edited_at).not.toBeNull();
    expect(row.edited_at!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(row.edited_at!.getTime()).toBeLessThanOrEqual(after + 1000);
    expect(row.created_at).toEqual(original.created_at);
    expect(row.author_id).toBe(original.author_id);
    expect(await messageRow(messageIds[1])).toEqual(untouched);

    expect(message.id).toBe(toGlobalId('Message', messageIds[0]));
    expect(message.body).toBe('edited text');
    expect(message.createdAt).toBe(original.created_at.toISOString());
    expect(message.editedAt).toBe(row.edited_at!.toISOString());
    expect(message.author.id).toBe(toGlobalId('User', author.id));
  });

  it('can edit a message again: editedAt moves on', async () => {
    const { author, messageIds } = await fixture('Twice');
    const token = await api.tokenFor(author.id);
    const messageId = toGlobalId('Message', messageIds[0]);
    const first = await api.request(EditMessageDocument, { messageId, body: 'one' }, { token });
    expect(first.errors).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await api.request(EditMessageDocument, { messageId, body: 'two' }, { token });
    expect(second.errors).toBeUndefined();
    expect(second.data!.editMessage.message.body).toBe('two');
    expect(Date.parse(second.data!.editMessage.message.editedAt!)).toBeGreaterThan(Date.parse(first.data!.editMessage.message.editedAt!));
    expect((await messageRow(messageIds[0])).body).toBe('two');
  });

  it("answers FORBIDDEN for another participant's message and writes nothing", async () => {
    const { author, other, messageIds } = await fixture('Forbidden');
    const before = await snapshotTables(pool);
    // Each of the two may read both messages, but edit only their own.
    const byAuthor = await api.request(
      EditMessageDocument,
      { messageId: toGlobalId('Message', messageIds[1]), body: 'hijacked' },
      { token: await api.tokenFor(author.id) },
    );
    expectOneError(byAuthor, 'FORBIDDEN');
    const byOther = await api.request(
      EditMessageDocument,
      { messageId: toGlobalId('Message', messageIds[0]), body: 'hijacked' },
      { token: await api.tokenFor(other.id) },
    );
    expectOneError(byOther, 'FORBIDDEN');
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it("answers NOT_FOUND outside the editor's conversations, as for a message that does not exist, and writes nothing", async () => {
    const { outsider, messageIds } = await fixture('Outside');
    const token = await api.tokenFor(outsider.id);
    const before = await snapshotTables(pool);

    const existingId = toGlobalId('Message', messageIds[0]);
    const existingError = expectOneError(await api.request(EditMessageDocument, { messageId: existingId, body: 'mine now' }, { token }), 'NOT_FOUND');
    const { rows } = await pool.query<{ next: string }>('SELECT (coalesce(max(id), 0) + 1000)::text AS next FROM messages');
    const missingId = toGlobalId('Message', rows[0]!.next);
    const missingError = expectOneError(await api.request(EditMessageDocument, { messageId: missingId, body: 'mine now' }, { token }), 'NOT_FOUND');

    expectIndistinguishable({ error: existingError, id: existingId }, { error: missingError, id: missingId });
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('refuses an id that is not a message id, naming input.messageId', async () => {
    const { author, conversationId, messageIds } = await fixture('WrongId');
    const token = await api.tokenFor(author.id);
    const before = await snapshotTables(pool);
    // A conversation's id, garbage, ids no message can have (0, beyond the bigint range).
    for (const id of [toGlobalId('Conversation', conversationId), 'not-an-id', toGlobalId('Message', '0'), toGlobalId('Message', '9999999999999999999')]) {
      expectOneError(await api.request(EditMessageDocument, { messageId: id, body: 'edited' }, { token }), 'BAD_USER_INPUT', 'input.messageId');
    }
    expect(await snapshotTables(pool)).toEqual(before);
    const ok = await api.request(EditMessageDocument, { messageId: toGlobalId('Message', messageIds[0]), body: 'edited' }, { token });
    expect(ok.errors).toBeUndefined();
  });
});

describe('editMessage body', () => {
  let fixed: Fixture;
  let token: string;
  let messageId: string;
  beforeAll(async () => {
    fixed = await fixture('Body');
    token = await api.tokenFor(fixed.author.id);
    messageId = toGlobalId('Message', fixed.messageIds[0]);
  });
  const edit = (body: string) => api.request(EditMessageDocument, { messageId, body }, { token });

  it.each([
    ['empty', ''],
    ['whitespace-only', ' \t\n\u00a0 '],
    ['4001-character', 'a'.repeat(4001)],
    ['4001-emoji', '😀'.repeat(4001)],
  ])('refuses an %s body with BAD_USER_INPUT on input.body and keeps the message as it was', async (_name, body) => {
    const before = await snapshotTables(pool);
    expectOneError(await edit(body), 'BAD_USER_INPUT', 'input.body');
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it('refuses a NUL-containing body before running, naming the variable, and keeps the message as it was', async () => {
    const before = await snapshotTables(pool);
    expectRefusedBeforeRunning(await edit('a\u0000b'), 'BAD_USER_INPUT', '$body');
    expect(await snapshotTables(pool)).toEqual(before);
  });

  it.each([
    ['4000 ASCII characters', 'e'.repeat(4000)],
    ['4000 emoji', '🎉'.repeat(4000)],
    ['4000 characters with whitespace around', `  ${'f'.repeat(4000)}\n`],
  ])('accepts %s', async (_name, body) => {
    const result = await edit(body);
    expect(result.errors).toBeUndefined();
    expect(result.data!.editMessage.message.body).toBe(body.trim());
    expect((await messageRow(fixed.messageIds[0])).body).toBe(body.trim());
  });
});
