import { BadUserInputError, NotFoundError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { MAX_TITLE_LENGTH } from './create-conversation.js';
import { conversationUpdatedEvents } from './live.js';

/**
 * Gives a group a new title, by any of its participants. Touches the
 * conversation and every participant's inbox; tells their inbox
 * subscriptions.
 */
export async function renameConversation(writer: Writer, userId: number, conversationId: number, title: string): Promise<void> {
  const trimmed = title.trim();
  if (trimmed === '') throw new BadUserInputError('input.title: expected a title', 'input.title');
  if ([...trimmed].length > MAX_TITLE_LENGTH) throw new BadUserInputError(`input.title: at most ${MAX_TITLE_LENGTH} characters`, 'input.title');
  await writer.run(async ({ client, touch, emit }) => {
    const { rows } = await client.query<{ kind: string; participantIds: number[] }>(
      `UPDATE conversations c SET title = CASE WHEN c.kind = 'group' THEN $3 ELSE c.title END, updated_at = now()
       WHERE c.id = $1 AND EXISTS (SELECT 1 FROM conversation_participants p WHERE p.conversation_id = c.id AND p.user_id = $2)
       RETURNING c.kind, (SELECT array_agg(p.user_id ORDER BY p.user_id) FROM conversation_participants p WHERE p.conversation_id = c.id) AS "participantIds"`,
      [conversationId, userId, trimmed],
    );
    const renamed = rows[0];
    if (!renamed) throw new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));
    if (renamed.kind !== 'group') throw new BadUserInputError('input.conversationId: a direct conversation has no title', 'input.conversationId');
    touch(tags.conversation(conversationId), ...renamed.participantIds.map((id) => tags.inbox(id)));
    emit(...conversationUpdatedEvents(conversationId, renamed.participantIds));
  });
}
