import type pg from 'pg';
import { NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { conversationUpdatedEvents } from '../conversations/live.js';
import type { UserRow } from '../users/rows.js';
import { userColumns } from '../users/sql.js';
import { levelForXpSql, XP_PER_MESSAGE } from '../users/xp.js';
import { messageAddedEvent } from './live.js';
import { normalizeBody } from './body.js';
import type { MessageRow } from './rows.js';
import { MESSAGE_COLUMNS } from './sql.js';

export interface SendMessageInput {
  conversationId: number;
  body: string;
}

/**
 * Sends a message as `authorId`, atomically: the message, the conversation's
 * last_message_at and every participant's last_activity_at (the inbox's
 * order), the author's last_read_at (they have read what they wrote), their
 * daily activity and XP/level. A non-participant gets NOT_FOUND, as if the
 * conversation did not exist. Touches the conversation, its message list,
 * the author (XP), and the inbox and the searches of every participant;
 * tells the conversation's subscribers (messageAdded) and every
 * participant's inbox (conversationUpdated).
 */
export async function sendMessage(writer: Writer, authorId: number, input: SendMessageInput): Promise<MessageRow> {
  const body = normalizeBody(input.body);
  return writer.run(async ({ client, touch, emit }) => {
    // The conversation's row lock first: messages to one conversation go one
    // at a time, in the order they commit, and every sender takes the
    // conversation's row before the participants' rows (recordMessageSent
    // updates all of them), so two senders cannot deadlock.
    const locked = await client.query(
      `SELECT 1 FROM conversations c
       WHERE c.id = $1 AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
       FOR NO KEY UPDATE`,
      [input.conversationId, authorId],
    );
    if (locked.rowCount === 0) throw notFound(input.conversationId);
    const { rows } = await client.query<MessageRow & { participantIds: number[]; previousId: string | null }>(insertMessageSql, [
      input.conversationId,
      authorId,
      body,
    ]);
    // The author left while this send waited for the lock.
    if (rows.length === 0) throw notFound(input.conversationId);
    const { participantIds, previousId, ...message } = rows[0]!;
    const author = await recordMessageSent(client, message);
    emit(messageAddedEvent(message, author, previousId, participantIds), ...conversationUpdatedEvents(message.conversationId, participantIds));
    touch(
      tags.conversation(message.conversationId),
      tags.messages(message.conversationId),
      tags.message(message.id),
      tags.user(authorId),
      ...participantIds.flatMap((userId) => [tags.inbox(userId), tags.search(userId)]),
    );
    return message;
  });
}

const notFound = (conversationId: number) => new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));

/**
 * The message, inserted once the conversation's row lock is held. Its
 * cursor, (created_at, id), is its place in commit order: the id is drawn
 * under the lock, and created_at is the clock at the insert, never below the
 * conversation's last message. The transaction's start time (now(), the
 * column's default) would not do: a sender that began before another but
 * got the lock after it would get the earlier timestamp while committing
 * later, and a reader resuming from the other's cursor would skip its
 * message. A new statement, so its snapshot is taken after the lock was
 * granted: it sees every message and participant committed before, which
 * the locking statement's own snapshot (taken before it waited) may not.
 * So the newest message it reads is the one committed just before this one
 * (the feeds of subscribers check by it that none is missing), and the
 * participants are those who may read it.
 */
export const insertMessageSql = `
  WITH participants AS (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM conversation_participants WHERE conversation_id = $1),
  previous AS (SELECT id FROM messages WHERE conversation_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)
  INSERT INTO messages AS m (conversation_id, author_id, body, created_at)
  SELECT c.id, $2, $3, greatest(clock_timestamp(), c.last_message_at)
  FROM conversations c, participants
  WHERE c.id = $1 AND $2 = ANY(participants.ids)
  RETURNING ${MESSAGE_COLUMNS}, (SELECT ids FROM participants) AS "participantIds", (SELECT id FROM previous) AS "previousId"`;

/** Everything a new message changes besides itself, in one statement; returns the author as it left them (their XP). */
async function recordMessageSent(client: pg.PoolClient, message: MessageRow): Promise<UserRow> {
  const { rows } = await client.query<UserRow>(
    `WITH conversation AS (
       UPDATE conversations SET last_message_at = greatest(last_message_at, $3), updated_at = $3 WHERE id = $1
     ),
     -- One UPDATE for both columns: a statement cannot update a row twice.
     participants AS (
       UPDATE conversation_participants
       SET last_activity_at = greatest(last_activity_at, $3),
           last_read_at = CASE WHEN user_id = $2 THEN greatest(last_read_at, $3) ELSE last_read_at END
       WHERE conversation_id = $1
     ),
     activity AS (
       INSERT INTO user_daily_activity (user_id, day, messages_count, xp_earned)
       VALUES ($2, ($3::timestamptz AT TIME ZONE 'UTC')::date, 1, $4)
       ON CONFLICT (user_id, day) DO UPDATE
         SET messages_count = user_daily_activity.messages_count + 1,
             xp_earned = user_daily_activity.xp_earned + $4
     )
     UPDATE users SET xp = xp + $4, level = ${levelForXpSql('xp + $4')}, last_active_at = greatest(last_active_at, $3)
     WHERE id = $2
     RETURNING ${userColumns('users')}`,
    [message.conversationId, message.authorId, message.createdAt, XP_PER_MESSAGE],
  );
  return rows[0]!;
}
