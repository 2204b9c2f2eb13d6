// Within a conversation a message's cursor, (created_at, id), is its place in
// commit order, however its sender's transaction was timed: concurrent
// senders, each waiting a random while between BEGIN and sending (so the
// transaction's start time says nothing of when it gets the conversation)
// and holding the conversation a random while before COMMIT. A reader that
// resumes from its last cursor while they send sees every message once.
import pg from 'pg';
import { withTransaction } from '../../src/db/transaction.js';
import { sendMessage } from '../../src/modules/messages/send-message.js';
import { findHistoryPages } from '../../src/modules/messages/sql.js';
import type { MessageRow } from '../../src/modules/messages/rows.js';
import type { Keyset } from '../../src/graphql/relay/cursor.js';
import type { Writer } from '../../src/writes/writer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertConversation, insertMessages, insertUser } from '../support/fixtures.js';

const SENDERS = 20;
const MESSAGES_EACH = 8;

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  // One connection per sender, and one for the reader.
  pool = new pg.Pool({ connectionString: database.url, max: SENDERS + 2 });
  await pool.query('CREATE SEQUENCE commit_order');
});
afterAll(async () => {
  await pool.end();
  await database.close();
});

/** Seconds, from 0 to `maximum` ms, for pg_sleep. */
const randomSeconds = (maximum: number) => (Math.random() * maximum) / 1000;

/**
 * The write path with random delays around the work, and the commit order
 * recorded: a sequence drawn while the conversation's row lock is held
 * (the work took it), so its values follow the order in which the lock was
 * held, which is the order of the COMMITs that released it.
 */
function delayingWriter(commits: Map<string, { order: number; start: Date }>): Writer {
  return {
    run: (work) =>
      withTransaction(pool, async (client) => {
        // now(): the transaction's start, the old default of messages.created_at.
        const { rows: started } = await client.query<{ start: Date }>('SELECT now() AS start, pg_sleep($1)', [randomSeconds(15)]);
        const value = await work({ client, touch: () => {}, emit: () => {} });
        const { rows } = await client.query<{ order: string }>(`SELECT nextval('commit_order') AS "order"`);
        commits.set((value as MessageRow).id, { order: Number(rows[0]!.order), start: started[0]!.start });
        await client.query('SELECT pg_sleep($1)', [randomSeconds(3)]);
        return value;
      }),
  };
}

/** The messages after `cursor`, oldest first, as a history page read backwards from it returns them (all of them, page by page). */
async function readAfter(conversationId: number, cursor: Keyset | null): Promise<MessageRow[]> {
  const read: MessageRow[] = [];
  for (;;) {
    const rows = (await findHistoryPages(pool, [{ conversationId, page: { forward: false, size: 50, cursor } }])).pages[0]!;
    // A page's rows come in no set order (toConnectionPage sorts them): oldest first, as a client gets them.
    rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || Number(BigInt(a.id) - BigInt(b.id)));
    const page = rows.slice(0, 50);
    read.push(...page);
    if (rows.length <= 50) return read;
    const last = page.at(-1)!;
    cursor = { at: last.createdAt, id: last.id };
  }
}

it('cursor order is commit order, and a reader resuming from its cursor meanwhile misses nothing', async () => {
  const users = await Promise.all(Array.from({ length: SENDERS }, (_unused, index) => insertUser(pool, `Sender${index}`)));
  const conversationId = await insertConversation(pool, {
    participants: users.map((user) => user.id),
    title: 'Concurrent',
    createdAt: new Date(Date.now() - 3_600_000),
  });
  // An older message, so the reader starts from a cursor.
  const [firstId] = await insertMessages(pool, conversationId, [{ authorId: users[0]!.id, at: new Date(Date.now() - 60_000) }]);
  const first = await pool.query<{ created_at: Date }>('SELECT created_at FROM messages WHERE id = $1', [firstId]);

  const commits = new Map<string, { order: number; start: Date }>();
  const writer = delayingWriter(commits);
  let sending = true;
  const senders = Promise.all(
    users.map(async (user) => {
      for (let index = 0; index < MESSAGES_EACH; index += 1) await sendMessage(writer, user.id, { conversationId, body: `${user.username} ${index}` });
    }),
  ).finally(() => {
    sending = false;
  });

  // Resumes from the last message it read, as a client reconnecting does, while the senders send.
  const seen: string[] = [];
  let cursor: Keyset | null = { at: first.rows[0]!.created_at, id: firstId! };
  let reads = 0;
  const reader = (async () => {
    for (;;) {
      const stillSending = sending;
      const page = await readAfter(conversationId, cursor);
      reads += 1;
      for (const message of page) seen.push(message.id);
      const last = page.at(-1);
      if (last) cursor = { at: last.createdAt, id: last.id };
      // One read after the last commit.
      if (!stillSending) return;
    }
  })();
  await senders;
  await reader;

  const total = SENDERS * MESSAGES_EACH;
  expect(commits.size).toBe(total);
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM messages WHERE conversation_id = $1 AND id <> $2 ORDER BY created_at, id', [
    conversationId,
    firstId,
  ]);
  // The commit order of the messages in cursor order: 1, 2, 3, …
  expect(rows.map((row) => commits.get(row.id)!.order)).toEqual(Array.from({ length: total }, (_unused, index) => index + 1));
  // Not vacuous: some transaction began before another yet committed after
  // it, so cursors on the start time (the old created_at) would be out of
  // commit order; and the reader resumed many times while they sent.
  const byCommit = [...commits.values()].sort((a, b) => a.order - b.order);
  const startedEarlierCommittedLater = byCommit.filter((commit, index) => index > 0 && commit.start < byCommit[index - 1]!.start);
  expect(startedEarlierCommittedLater.length).toBeGreaterThan(0);
  expect(reads).toBeGreaterThan(3);
  expect(seen).toEqual(rows.map((row) => row.id));
});
