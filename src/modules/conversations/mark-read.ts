import { NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { conversationUpdatedEvents } from './live.js';

/**
 * Marks everything up to the conversation's newest message as read by the
 * viewer. Never moves last_read_at backwards (a late request from another
 * device cannot un-read newer messages). Touches the conversation (its
 * unread count) and the viewer's inbox, and tells the viewer's inbox
 * subscriptions (their other devices).
 */
export async function markConversationRead(writer: Writer, viewerId: number, conversationId: number): Promise<void> {
  await writer.run(async ({ client, touch, emit }) => {
    const result = await client.query(
      `UPDATE conversation_participants p
       SET last_read_at = greatest(p.last_read_at, coalesce(c.last_message_at, c.created_at))
       FROM conversations c
       WHERE c.id = p.conversation_id AND p.conversation_id = $1 AND p.user_id = $2`,
      [conversationId, viewerId],
    );
    if (result.rowCount === 0) throw new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));
    touch(tags.conversation(conversationId), tags.inbox(viewerId));
    // The reader's other devices: their unread count is 0.
    emit(...conversationUpdatedEvents(conversationId, [viewerId]));
  });
}
