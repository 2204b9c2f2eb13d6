import { ForbiddenError, NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { normalizeBody } from './body.js';
import type { MessageRow } from './rows.js';
import { MESSAGE_COLUMNS } from './sql.js';

/**
 * Replaces a message's body, by its author only. Outside the editor's
 * conversations the message does not exist (NOT_FOUND); inside, someone
 * else's message is FORBIDDEN. Touches the message, and the searches of
 * every participant (its new words may match a search that did not list it).
 */
export async function editMessage(writer: Writer, editorId: number, input: { messageId: string; body: string }): Promise<MessageRow> {
  const body = normalizeBody(input.body);
  return writer.run(async ({ client, touch }) => {
    // Locks the message, so two edits apply one after the other.
    const found = await client.query<{ authorId: number; participantIds: number[] }>(
      `SELECT m.author_id AS "authorId",
              array(SELECT everyone.user_id FROM conversation_participants everyone WHERE everyone.conversation_id = m.conversation_id) AS "participantIds"
       FROM messages m
       JOIN conversation_participants p ON p.conversation_id = m.conversation_id AND p.user_id = $2
       WHERE m.id = $1::bigint
       FOR UPDATE OF m`,
      [input.messageId, editorId],
    );
    const message = found.rows[0];
    if (!message) throw new NotFoundError('Message', toGlobalId('Message', input.messageId));
    if (message.authorId !== editorId) throw new ForbiddenError('Only the author of a message can edit it.');
    const { rows } = await client.query<MessageRow>(
      `UPDATE messages m SET body = $2, edited_at = clock_timestamp() WHERE m.id = $1::bigint RETURNING ${MESSAGE_COLUMNS}`,
      [input.messageId, body],
    );
    touch(tags.message(input.messageId), ...message.participantIds.map((userId) => tags.search(userId)));
    return rows[0]!;
  });
}
