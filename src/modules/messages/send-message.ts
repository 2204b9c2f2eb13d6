import type pg from 'pg';
import { NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { levelForXpSql, XP_PER_MESSAGE } from '../users/xp.js';
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
 * the author (XP), and the inbox and the searches of every participant.
 */
export async function sendMessage(writer: Writer, authorId: number, input: SendMessageInput): Promise<MessageRow> {
  const body = normalizeBody(input.body);
  return writer.run(async ({ client, touch }) => {
    // Locks the conversation first: messages to one conversation go one at a
    // time, and always take the conversation's row before the participants'
    // rows (each updates all of them), so two senders cannot deadlock. The
    // participants come in the same statement: their inboxes change.
    const participant = await client.query<{ participantIds: number[] }>(
      `SELECT array(SELECT user_id FROM conversation_participants WHERE conversation_id = c.id) AS "participantIds"
       FROM conversations c
       WHERE c.id = $1 AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
       FOR NO KEY UPDATE`,
      [input.conversationId, authorId],
    );
    if (participant.rowCount === 0) throw new NotFoundError('Conversation', toGlobalId('Conversation', input.conversationId));
    const { rows } = await client.query<MessageRow>(
      `INSERT INTO messages AS m (conversation_id, author_id, body) VALUES ($1, $2, $3) RETURNING ${MESSAGE_COLUMNS}`,
      [input.conversationId, authorId, body],
    );
    const message = rows[0]!;
    await recordMessageSent(client, message);
    touch(
      tags.conversation(message.conversationId),
      tags.messages(message.conversationId),
      tags.message(message.id),
      tags.user(authorId),
      ...participant.rows[0]!.participantIds.flatMap((userId) => [tags.inbox(userId), tags.search(userId)]),
    );
    return message;
  });
}

/** Everything a new message changes besides itself, in one statement. */
async function recordMessageSent(client: pg.PoolClient, message: MessageRow): Promise<void> {
  await client.query(
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
     WHERE id = $2`,
    [message.conversationId, message.authorId, message.createdAt, XP_PER_MESSAGE],
  );
}
