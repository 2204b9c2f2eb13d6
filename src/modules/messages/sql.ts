// Internal: the messages domain's SQL. Each function takes the database
// first; batched reads take every key of a DataLoader batch and answer in
// one statement.
import type { Queryable } from '../../db/pool.js';
import { keysetPageParameters, keysetPagesFrom } from '../../graphql/relay/keyset-pages.js';
import { groupByOrdinal } from '../../graphql/relay/order-by-keys.js';
import type { PageRequest } from '../../graphql/relay/page-arguments.js';
import type { Keyset } from '../../graphql/relay/cursor.js';
import { userColumns, userOfColumns } from '../users/sql.js';
import type { UserRow } from '../users/rows.js';
import type { MessageRow } from './rows.js';

/** The columns of a MessageRow from messages aliased `m`. */
export const MESSAGE_COLUMNS = `
  m.id, m.conversation_id AS "conversationId", m.author_id AS "authorId", m.body,
  m.created_at AS "createdAt", m.edited_at AS "editedAt"`;

/** Prefix of the author's columns in rows of statements that join the author (see userColumns). */
export const AUTHOR_PREFIX = 'author.';

/** A message as read with its author joined: the loaders prime userById with the author. */
export type MessageWithAuthorRow = MessageRow & { [Field in keyof UserRow as `${typeof AUTHOR_PREFIX}${Field}`]: UserRow[Field] };

/** The message of a MessageWithAuthorRow (or of a row with more beside), in one object, with its author. */
export function messageOfRow(row: MessageRow, author: UserRow): MessageRow {
  return { id: row.id, conversationId: row.conversationId, authorId: row.authorId, body: row.body, createdAt: row.createdAt, editedAt: row.editedAt, author };
}

/** The author of a MessageWithAuthorRow, in one object: named fields, not a scan of the row's keys. */
export function authorOfRow(row: MessageWithAuthorRow): UserRow {
  return {
    id: row['author.id'],
    username: row['author.username'],
    displayName: row['author.displayName'],
    email: row['author.email'],
    avatarUrl: row['author.avatarUrl'],
    level: row['author.level'],
    xp: row['author.xp'],
    createdAt: row['author.createdAt'],
    lastActiveAt: row['author.lastActiveAt'],
  };
}

/** Messages by id, only in conversations `viewerId` takes part in, with their author. */
export async function findVisibleMessages(db: Queryable, viewerId: number, ids: readonly string[]): Promise<MessageWithAuthorRow[]> {
  const { rows } = await db.query<MessageWithAuthorRow>(
    `SELECT ${MESSAGE_COLUMNS}, ${userColumns('u', AUTHOR_PREFIX)}
     FROM messages m
     JOIN conversation_participants p ON p.conversation_id = m.conversation_id AND p.user_id = $1
     JOIN users u ON u.id = m.author_id
     WHERE m.id = ANY($2::bigint[])`,
    [viewerId, ids],
  );
  return rows;
}

/**
 * The newest message of each conversation: one LATERAL probe per key into
 * messages (conversation_id, created_at DESC, id DESC), one row read each,
 * however long the conversations are (DISTINCT ON would read them all).
 */
export async function findLastMessages(db: Queryable, conversationIds: readonly number[]): Promise<MessageWithAuthorRow[]> {
  const { rows } = await db.query<MessageWithAuthorRow>(
    `SELECT last.*, ${userColumns('u', AUTHOR_PREFIX)}
     FROM unnest($1::int[]) AS k(conversation_id)
     CROSS JOIN LATERAL (
       SELECT ${MESSAGE_COLUMNS} FROM messages m
       WHERE m.conversation_id = k.conversation_id
       ORDER BY m.created_at DESC, m.id DESC
       LIMIT 1
     ) last
     JOIN users u ON u.id = last."authorId"`,
    [conversationIds],
  );
  return rows;
}

export interface HistoryPageKey {
  conversationId: number;
  page: PageRequest;
}

/**
 * Pages of history, newest first, for many (conversation, page) keys in one
 * statement (keysetPagesFrom): each page a range of
 * messages (conversation_id, created_at DESC, id DESC), about a page of
 * rows however long the conversation and however deep the cursor; forward
 * pages go back in time from the cursor, backward pages forward from it.
 * Each author's columns come on one row only, null on that author's
 * other rows: a page of 50 conversations × 21 messages has some 50 authors,
 * and their columns repeated on every row were most of what the database
 * sent and the driver parsed (two timestamps each), and 1,000 lookups into users.
 *
 * The rows are read as arrays (pg's rowMode 'array') and made into the
 * messages here, in one pass: as objects, pg set each of a row's 16 columns
 * by name on a copy of a template, and the loader copied the 7 of the
 * message into another object (some 1,000 rows of an Inbox: the driver's
 * CPU per statement 2.1 ms as arrays against 2.4 as objects, alternating).
 */
export async function findHistoryPages(db: Queryable, keys: readonly HistoryPageKey[]): Promise<HistoryPages> {
  const pages = keysetPagesFrom({ from: 'messages m', list: 'm.conversation_id', at: 'm.created_at', id: 'm.id', select: MESSAGE_COLUMNS });
  const { rows } = await db.query<HistoryRow>({
    text: `SELECT q.ordinal, q.id, q."conversationId", q."authorId", q.body, q."createdAt", q."editedAt", ${userColumns('u', AUTHOR_PREFIX)}
     FROM (
       SELECT k.ordinal::int AS ordinal, page.*, row_number() OVER (PARTITION BY page."authorId") AS "authorRow"
       FROM ${pages}
     ) q
     LEFT JOIN users u ON u.id = q."authorId" AND q."authorRow" = 1`,
    values: keysetPageParameters(keys.map((key) => ({ list: key.conversationId, page: key.page }))),
    rowMode: 'array',
  });
  const authors = new Map<number, UserRow>();
  for (const row of rows) if (row[HISTORY_AUTHOR] !== null && !authors.has(row[3])) authors.set(row[3], userOfColumns(row, HISTORY_AUTHOR));
  const grouped = groupByOrdinal(
    keys.length,
    rows,
    (row) => row[0],
    (row): MessageRow => {
      const author = authors.get(row[3]);
      // messages.author_id references users: every author comes on some row of the statement.
      if (!author) throw new Error(`message ${row[1]}: author ${row[3]} missing from its statement's rows`);
      return { id: row[1], conversationId: row[2], authorId: row[3], body: row[4], createdAt: row[5], editedAt: row[6], author };
    },
  );
  return { pages: grouped, authors: [...authors.values()] };
}

/** What findHistoryPages reads. */
export interface HistoryPages {
  /** Each key's page, in the keys' order: its messages (size + 1 at most, in the direction read), each with its author, in no set order (toConnectionPage sorts them). */
  pages: MessageRow[][];
  /** Those messages' authors, one object each (the same objects as the messages'). */
  authors: UserRow[];
}

/** Where a row of findHistoryPages has its author's columns (userColumns's, in its order). */
const HISTORY_AUTHOR = 7;

/** A row of findHistoryPages as pg reads it: the key's ordinal, the message's columns, its author's (null but on one row per author). */
type HistoryRow = [
  ordinal: number,
  id: string,
  conversationId: number,
  authorId: number,
  body: string,
  createdAt: Date,
  editedAt: Date | null,
  ...author: unknown[],
];

export async function countMessages(db: Queryable, conversationIds: readonly number[]): Promise<{ conversationId: number; count: number }[]> {
  const { rows } = await db.query<{ conversationId: number; count: number }>(
    `SELECT conversation_id AS "conversationId", count(*)::int AS count FROM messages
     WHERE conversation_id = ANY($1::int[]) GROUP BY conversation_id`,
    [conversationIds],
  );
  return rows;
}

/** A message with its author joined, and the conversation's participants now (the same for every row of a statement). */
export type MessageAfterRow = MessageWithAuthorRow & { participantIds: number[] };

/**
 * The messages of a conversation after a cursor, oldest first, at most
 * `limit`, each with its author, and the participants now: what a
 * subscription resuming from the cursor replays, and what a conversation's
 * feed reads to fill a gap (realtime/ordered-feed.ts). A range of
 * messages (conversation_id, created_at DESC, id DESC), read backwards; the
 * participants an uncorrelated subquery, read once. Without a cursor, from
 * the first message.
 */
export async function findMessagesAfter(db: Queryable, conversationId: number, after: Keyset | null, limit: number): Promise<MessageAfterRow[]> {
  const { rows } = await db.query<MessageAfterRow>(
    `SELECT ${MESSAGE_COLUMNS}, ${userColumns('u', AUTHOR_PREFIX)},
       coalesce((SELECT array_agg(p.user_id ORDER BY p.user_id) FROM conversation_participants p WHERE p.conversation_id = $1), '{}') AS "participantIds"
     FROM messages m
     JOIN users u ON u.id = m.author_id
     WHERE m.conversation_id = $1 AND (m.created_at, m.id) > (coalesce($2::timestamptz, '-infinity'), coalesce($3::bigint, 0))
     ORDER BY m.created_at, m.id
     LIMIT $4`,
    [conversationId, after?.at ?? null, after?.id ?? null, limit],
  );
  return rows;
}

/** Where the newest message of a conversation sits, or null for an empty one: one probe of messages (conversation_id, created_at DESC, id DESC). */
export async function findNewestMessageKeyset(db: Queryable, conversationId: number): Promise<Keyset | null> {
  const { rows } = await db.query<Keyset>('SELECT created_at AS at, id FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1', [
    conversationId,
  ]);
  return rows[0] ?? null;
}
