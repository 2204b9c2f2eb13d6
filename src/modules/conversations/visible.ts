import type { Context } from '../../graphql/context.js';
import { NotFoundError } from '../../graphql/errors.js';
import { toGlobalId } from '../relay/global-id.js';
import type { ConversationRow } from './rows.js';

/**
 * A conversation the viewer takes part in, or NOT_FOUND: every path to a
 * conversation (query, node, a message's conversation, mutations) goes
 * through here, so a non-participant cannot tell it from one that does not exist.
 */
export async function loadVisibleConversation(context: Pick<Context, 'loaders'>, id: number): Promise<ConversationRow> {
  const conversation = await context.loaders.visibleConversationById.load(id);
  if (!conversation) throw new NotFoundError('Conversation', toGlobalId('Conversation', id));
  return conversation;
}
