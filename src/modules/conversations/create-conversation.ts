import { BadUserInputError, UnauthenticatedError } from '../../graphql/errors.js';
import { tags } from '../../writes/tags.js';
import type { Writer } from '../../writes/writer.js';
import type { ConversationRow } from './rows.js';
import { conversationUpdatedEvents } from './live.js';
import { CONVERSATION_COLUMNS } from './sql.js';

/** Participants of one conversation, the creator included. */
export const MAX_PARTICIPANTS = 50;
export const MAX_TITLE_LENGTH = 200;

export interface CreateConversationInput {
  participantIds: number[];
  title?: string | null;
}

/**
 * Creates a conversation of the creator and the given users. One other user
 * and no title is a direct chat, and the existing direct chat of the pair is
 * returned instead of a second one (the unique direct_key decides, so two
 * concurrent requests cannot both create it). Anything else is a group.
 * Touches the new conversation and every participant's inbox, and tells
 * every participant's inbox subscriptions.
 */
export async function createConversation(writer: Writer, creatorId: number, input: CreateConversationInput): Promise<ConversationRow> {
  const others = [...new Set(input.participantIds)].filter((id) => id !== creatorId);
  if (others.length === 0) {
    throw new BadUserInputError('input.participantIds: name at least one other user', 'input.participantIds');
  }
  if (others.length + 1 > MAX_PARTICIPANTS) {
    throw new BadUserInputError(
      `input.participantIds: at most ${MAX_PARTICIPANTS} participants, you included (got ${others.length + 1})`,
      'input.participantIds',
    );
  }
  const title = input.title?.trim() || null;
  if (title && [...title].length > MAX_TITLE_LENGTH) {
    throw new BadUserInputError(`input.title: at most ${MAX_TITLE_LENGTH} characters`, 'input.title');
  }

  return writer.run(async ({ client, touch, emit }) => {
    const { rows: found } = await client.query<{ id: number }>('SELECT id FROM users WHERE id = ANY($1::int[])', [[creatorId, ...others]]);
    const known = new Set(found.map((row) => row.id));
    // The token names a user who no longer exists: signed out (Query.viewer is null for it).
    if (!known.has(creatorId)) throw new UnauthenticatedError();
    if (found.length !== others.length + 1) {
      const missing = others.filter((id) => !known.has(id));
      throw new BadUserInputError(`input.participantIds: no user with id ${missing.join(', ')}`, 'input.participantIds');
    }
    const direct = others.length === 1 && title === null;
    const directKey = direct ? [creatorId, others[0]!].sort((a, b) => a - b).join(':') : null;
    const { rows } = await client.query<ConversationRow>(
      `INSERT INTO conversations AS c (title, kind, direct_key, created_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (direct_key) DO NOTHING RETURNING ${CONVERSATION_COLUMNS}`,
      [title, direct ? 'direct' : 'group', directKey, creatorId],
    );
    if (rows.length === 0) {
      // The pair's direct chat exists: return it (both are its participants).
      const existing = await client.query<ConversationRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations c WHERE c.direct_key = $1`, [directKey]);
      return existing.rows[0]!;
    }
    const conversation = rows[0]!;
    await client.query(
      // A new conversation's last activity is its creation.
      `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_activity_at)
       SELECT $1, user_id, CASE WHEN user_id = $2 THEN 'owner' ELSE 'member' END, $3, $3
       FROM unnest($4::int[]) AS u(user_id)`,
      [conversation.id, creatorId, conversation.createdAt, [creatorId, ...others]],
    );
    touch(tags.conversation(conversation.id), ...[creatorId, ...others].map((userId) => tags.inbox(userId)));
    emit(...conversationUpdatedEvents(conversation.id, [creatorId, ...others]));
    return conversation;
  });
}
