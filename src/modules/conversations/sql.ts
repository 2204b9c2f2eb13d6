// Internal: the conversations domain's SQL. Each function takes the
// database first; batched reads take every key of a DataLoader batch and
// answer in one statement.
import type { Queryable } from '../../db/pool.js';
import type { UserRow } from '../users/rows.js';
import { userColumns } from '../users/sql.js';
import { keysetPageParameters, keysetPagesFrom } from '../../graphql/relay/keyset-pages.js';
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
 * The messages of the participant row `p` that its user has not read, as the
 * condition joining messages `m`: by others, after their last read. One
 * range of messages (conversation_id, created_at DESC, id DESC), not a
 * filter over the whole conversation. countUnread's, and compiled reads'.
 */
export const unreadMessagesOn = (p: string, m: string): string =>
  `${m}.conversation_id = ${p}.conversation_id AND ${m}.author_id <> ${p}.user_id AND ${m}.created_at > coalesce(${p}.last_read_at, '-infinity')`;

/**
 * The viewer's unread count in many conversations, in one grouped statement:
 * messages by others after the viewer's last read. An index-only scan of
 * messages (conversation_id, created_at DESC, id DESC) INCLUDE (author_id).
 */
export async function countUnread(db: Queryable, viewerId: number, conversationIds: readonly number[]): Promise<{ conversationId: number; unread: number }[]> {
  const { rows } = await db.query<{ conversationId: number; unread: number }>(
    `SELECT p.conversation_id AS "conversationId", count(m.conversation_id)::int AS unread
     FROM conversation_participants p
     LEFT JOIN messages m ON ${unreadMessagesOn('p', 'm')}
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
 * keys in one statement (keysetPagesFrom): each page a range of
 * conversation_participants (user_id, last_activity_at DESC, conversation_id DESC),
 * an index-only scan of about a page of rows, however many conversations
 * the user is in and however deep the cursor (ordering by the
 * conversations' own columns read and sorted all of them). Then one
 * primary-key probe into conversations per row of the page. Rows carry the
 * key's ordinal, in no set order (toConnectionPage sorts them).
 */
export async function findInboxPages(db: Queryable, keys: readonly InboxPageKey[]): Promise<(ConversationRow & { ordinal: number })[]> {
  const pages = keysetPagesFrom({
    from: 'conversation_participants p',
    list: 'p.user_id',
    at: 'p.last_activity_at',
    id: 'p.conversation_id',
    select: 'p.conversation_id',
  });
  const { rows } = await db.query<ConversationRow & { ordinal: number }>(
    `SELECT k.ordinal::int AS ordinal, ${CONVERSATION_COLUMNS}
     FROM ${pages}
     JOIN conversations c ON c.id = page.conversation_id`,
    keysetPageParameters(keys.map((key) => ({ list: key.userId, page: key.page }))),
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
