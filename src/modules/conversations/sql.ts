// Internal: the conversations domain's SQL. Each function takes the
// database first; batched reads take every key of a DataLoader batch and
// answer in one statement.
import type { Queryable } from '../../db/pool.js';
import type { UserRow } from '../users/rows.js';
import { userColumns } from '../users/sql.js';
import type { PageRequest } from '../../graphql/relay/page-arguments.js';
import type { ConversationRow } from './rows.js';

/** The columns of a ConversationRow from conversations aliased `c`. */
export const CONVERSATION_COLUMNS = `
  c.id, c.title, c.kind, c.created_by AS "createdById", c.created_at AS "createdAt",
  c.updated_at AS "updatedAt", c.last_message_at AS "lastMessageAt"`;

/** The ConversationRow of a row that selected CONVERSATION_COLUMNS with more beside (an inbox page's ordinal), in one object. */
export function conversationOfRow(row: ConversationRow): ConversationRow {
  return {
    id: row.id,
    title: row.title,
    kind: row.kind,
    createdById: row.createdById,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastMessageAt: row.lastMessageAt,
  };
}

/** Conversations by id, only those `viewerId` takes part in: to anyone else the others do not exist. */
export async function findVisibleConversations(db: Queryable, viewerId: number, ids: readonly number[]): Promise<ConversationRow[]> {
  const { rows } = await db.query<ConversationRow>(
    `SELECT ${CONVERSATION_COLUMNS}
     FROM conversations c
     JOIN conversation_participants p ON p.conversation_id = c.id AND p.user_id = $1
     WHERE c.id = ANY($2::int[])`,
    [viewerId, ids],
  );
  return rows;
}

export type ParticipantUserRow = UserRow & { conversationId: number };

/** The participants of many conversations, as users, in the order they joined. */
export async function findParticipantUsers(db: Queryable, conversationIds: readonly number[]): Promise<ParticipantUserRow[]> {
  const { rows } = await db.query<ParticipantUserRow>(
    `SELECT p.conversation_id AS "conversationId", ${userColumns('u')}
     FROM conversation_participants p
     JOIN users u ON u.id = p.user_id
     WHERE p.conversation_id = ANY($1::int[])
     ORDER BY p.conversation_id, p.joined_at, u.id`,
    [conversationIds],
  );
  return rows;
}

/**
 * The viewer's unread count in many conversations, in one grouped statement:
 * messages by others after the viewer's last read. An index-only scan of
 * messages (conversation_id, created_at DESC, id DESC) INCLUDE (author_id).
 */
export async function countUnread(db: Queryable, viewerId: number, conversationIds: readonly number[]): Promise<{ conversationId: number; unread: number }[]> {
  const { rows } = await db.query<{ conversationId: number; unread: number }>(
    `SELECT p.conversation_id AS "conversationId", count(m.conversation_id)::int AS unread
     FROM conversation_participants p
     LEFT JOIN messages m
       ON m.conversation_id = p.conversation_id
      AND m.author_id <> p.user_id
      -- one range on the index, not a filter over the whole conversation
      AND m.created_at > coalesce(p.last_read_at, '-infinity')
     WHERE p.user_id = $1 AND p.conversation_id = ANY($2::int[])
     GROUP BY p.conversation_id`,
    [viewerId, conversationIds],
  );
  return rows;
}

export interface InboxPageKey {
  userId: number;
  page: PageRequest;
}

/**
 * Pages of "my conversations, newest activity first" for many (user, page)
 * keys in one statement. Each key's page is a LATERAL range of
 * conversation_participants (user_id, last_activity_at DESC, conversation_id DESC),
 * read in order from the cursor and stopped after the page: an index-only
 * scan of about a page of rows, however many conversations the user is in
 * (ordering by the conversations' own columns read and sorted all of them).
 * Then one primary-key probe into conversations per row of the page. The
 * cursor is one row comparison with the index's columns, so it bounds the
 * scan instead of filtering it; without a cursor the bound is ±infinity
 * (an `IS NULL OR` would turn it into a filter). Rows carry the key's
 * ordinal, in no set order (toConnectionPage sorts them); one row more than
 * the page size tells whether another page follows.
 */
export async function findInboxPages(db: Queryable, keys: readonly InboxPageKey[]): Promise<(ConversationRow & { ordinal: number })[]> {
  const { rows } = await db.query<ConversationRow & { ordinal: number }>(
    `SELECT k.ordinal::int AS ordinal, ${CONVERSATION_COLUMNS}
     FROM unnest($1::int[], $2::int[], $3::timestamptz[], $4::bigint[], $5::boolean[])
          WITH ORDINALITY AS k(user_id, size, cursor_at, cursor_id, forward, ordinal)
     CROSS JOIN LATERAL (
       (SELECT p.conversation_id
        FROM conversation_participants p
        WHERE k.forward AND p.user_id = k.user_id
          AND (p.last_activity_at, p.conversation_id) < (coalesce(k.cursor_at, 'infinity'), coalesce(k.cursor_id, 0))
        ORDER BY p.last_activity_at DESC, p.conversation_id DESC
        LIMIT k.size + 1)
       UNION ALL
       (SELECT p.conversation_id
        FROM conversation_participants p
        WHERE NOT k.forward AND p.user_id = k.user_id
          AND (p.last_activity_at, p.conversation_id) > (coalesce(k.cursor_at, '-infinity'), coalesce(k.cursor_id, 0))
        ORDER BY p.last_activity_at ASC, p.conversation_id ASC
        LIMIT k.size + 1)
     ) page
     JOIN conversations c ON c.id = page.conversation_id`,
    [
      keys.map((key) => key.userId),
      keys.map((key) => key.page.size),
      keys.map((key) => key.page.cursor?.at ?? null),
      // bigint, as decodeCursor allows: a forged id beyond int4 then matches nothing rather than failing.
      keys.map((key) => key.page.cursor?.id ?? null),
      keys.map((key) => key.page.forward),
    ],
  );
  return rows;
}

export async function countConversationsOf(db: Queryable, userIds: readonly number[]): Promise<{ userId: number; count: number }[]> {
  const { rows } = await db.query<{ userId: number; count: number }>(
    `SELECT user_id AS "userId", count(*)::int AS count FROM conversation_participants
     WHERE user_id = ANY($1::int[]) GROUP BY user_id`,
    [userIds],
  );
  return rows;
}
