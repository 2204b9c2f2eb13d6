import type { Context } from '../../graphql/context.js';
import { ForbiddenError, NotFoundError } from '../../graphql/errors.js';
import { requireViewer } from '../../graphql/viewer.js';
import type { PageRequest } from '../../graphql/relay/page-arguments.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import type { ConversationRow } from './rows.js';

declare const checked: unique symbol;

/**
 * A conversation the viewer takes part in. Only this file makes one, after
 * the check; the GraphQL type Conversation maps to it (codegen.ts), so every
 * field of a conversation is resolved from a checked row, and a new path to
 * a conversation (search, subscriptions, the cache) that skips the check
 * does not type-check.
 */
export type VisibleConversation = ConversationRow & { readonly [checked]: true };

/**
 * A conversation the viewer takes part in, or NOT_FOUND: every path to a
 * conversation by id (query, node, a message's conversation, mutations) goes
 * through here, so a non-participant cannot tell it from one that does not exist.
 */
export async function loadVisibleConversation(context: Pick<Context, 'loaders'>, id: number): Promise<VisibleConversation> {
  // visibleConversationById selects only conversations the viewer takes part in.
  const conversation = await context.loaders.visibleConversationById.load(id);
  if (!conversation) throw new NotFoundError('Conversation', toGlobalId('Conversation', id));
  return conversation as VisibleConversation;
}

/**
 * A page of `userId`'s conversations, for that user only (FORBIDDEN to
 * anyone else): the inbox lists conversations its owner takes part in.
 * Rows are `size + 1` in the direction read, as toConnectionPage expects.
 */
export async function loadInboxPage(context: Pick<Context, 'loaders' | 'viewer'>, userId: number, page: PageRequest): Promise<VisibleConversation[]> {
  const viewer = requireViewer(context);
  if (viewer.id !== userId) throw new ForbiddenError("A user's conversations are listed to that user only.");
  const rows = await context.loaders.inboxPage.load({ userId, page });
  // The viewer takes part in each: later lookups of these need no statement.
  for (const row of rows) context.loaders.visibleConversationById.prime(row.id, row);
  return rows as VisibleConversation[];
}
