import { BadUserInputError, NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { conversationUpdatedEvents, participantLeftEvent } from './live.js';

/**
 * `userId` stops taking part in a group. Holds the conversation's row lock
 * as sendMessage does, so a message committed after the leave never lists
 * the leaver among its participants (each subscription checks that on
 * every message), and the leave reaches the conversation's subscribers,
 * whose streams for the leaver end. A direct conversation cannot be left
 * (its pair would have no way back: creating it again returns it).
 * Touches the conversation and every inbox that listed it; tells the
 * conversation's subscribers and the others' inboxes.
 */
export async function leaveConversation(writer: Writer, userId: number, conversationId: number): Promise<void> {
  await writer.run(async ({ client, touch, emit }) => {
    const locked = await client.query<{ kind: string }>(
      `SELECT c.kind FROM conversations c
       WHERE c.id = $1 AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
       FOR NO KEY UPDATE`,
      [conversationId, userId],
    );
    const conversation = locked.rows[0];
    if (!conversation) throw new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));
    if (conversation.kind !== 'group') throw new BadUserInputError('input.conversationId: a direct conversation cannot be left', 'input.conversationId');
    // A new statement, with a snapshot taken after the lock: the participants as they are now.
    const { rows } = await client.query<{ remaining: number[] | null; left: boolean }>(
      `WITH removed AS (DELETE FROM conversation_participants WHERE conversation_id = $1 AND user_id = $2 RETURNING user_id)
       SELECT (SELECT array_agg(user_id ORDER BY user_id) FROM conversation_participants WHERE conversation_id = $1 AND user_id <> $2) AS remaining,
              EXISTS (SELECT 1 FROM removed) AS "left"`,
      [conversationId, userId],
    );
    if (!rows[0]!.left) throw new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));
    const remaining = rows[0]!.remaining ?? [];
    // The leaver's searches no longer cover the conversation.
    touch(tags.conversation(conversationId), tags.search(userId), ...[userId, ...remaining].map((id) => tags.inbox(id)));
    emit(participantLeftEvent(conversationId, userId), ...conversationUpdatedEvents(conversationId, remaining));
  });
}
