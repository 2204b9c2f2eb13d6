import { ForbiddenError, NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { conversationUpdatedEvents } from '../conversations/live.js';
import { normalizeBody } from './body.js';
import { messageEditedEvent } from './live.js';
import type { MessageRow } from './rows.js';
import { MESSAGE_COLUMNS } from './sql.js';

/**
 * Replaces a message's body, by its author only. Outside the editor's
 * conversations the message does not exist (NOT_FOUND); inside, someone
 * else's message is FORBIDDEN. Touches the message, its conversation's
 * messages, and the searches of every participant (its new words may match a search that did not list it);
 * tells the conversation's
 * subscribers (messageEdited), and every participant's inbox when it is the
 * conversation's last message (conversationUpdated).
 */
export async function editMessage(writer: Writer, editorId: number, input: { messageId: string; body: string }): Promise<MessageRow> {
  const body = normalizeBody(input.body);
  return writer.run(async ({ client, touch, emit }) => {
    // Locks the message, so two edits apply one after the other, and shares
    // the conversation's lock with other edits: a participant leaving (or a
    // message sent) waits for it, so the participants read below are those
    // when it commits.
    const found = await client.query<{ authorId: number }>(
      `SELECT m.author_id AS "authorId"
       FROM messages m
       JOIN conversation_participants p ON p.conversation_id = m.conversation_id AND p.user_id = $2
       JOIN conversations c ON c.id = m.conversation_id
       WHERE m.id = $1::bigint
       FOR UPDATE OF m FOR SHARE OF c`,
      [input.messageId, editorId],
    );
    const message = found.rows[0];
    if (!message) throw new NotFoundError('Message', toGlobalId('Message', input.messageId));
    if (message.authorId !== editorId) throw new ForbiddenError('Only the author of a message can edit it.');
    // A new statement, with a snapshot taken after the locks were granted.
    const { rows } = await client.query<MessageRow & { participantIds: number[]; isLast: boolean }>(
      `UPDATE messages m SET body = $2, edited_at = clock_timestamp() WHERE m.id = $1::bigint
       RETURNING ${MESSAGE_COLUMNS},
         (SELECT array_agg(p.user_id ORDER BY p.user_id) FROM conversation_participants p WHERE p.conversation_id = m.conversation_id) AS "participantIds",
         m.id = (SELECT last.id FROM messages last WHERE last.conversation_id = m.conversation_id ORDER BY last.created_at DESC, last.id DESC LIMIT 1) AS "isLast"`,
      [input.messageId, body],
    );
    const { participantIds, isLast, ...edited } = rows[0]!;
    // The conversation's list of messages changed too (an item of it): what
    // keeps pages of it (the loader cache) is dropped by the one tag.
    touch(tags.message(input.messageId), tags.messages(edited.conversationId), ...participantIds.map((userId) => tags.search(userId)));
    emit(messageEditedEvent(edited.conversationId, edited.id, participantIds));
    // The inbox shows the last message: its participants' inboxes changed.
    if (isLast) emit(...conversationUpdatedEvents(edited.conversationId, participantIds));
    return edited;
  });
}
