import { listTagOfParent, type ListTags } from '../../cache/entity-tags.js';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { toConnectionPage } from '../../graphql/relay/connection.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import type { NodeFetchers } from '../node/resolvers.js';
import { createConversation } from './create-conversation.js';
import { conversationKeyset } from './keyset.js';
import { markConversationRead } from './mark-read.js';
import { loadInboxPage, loadVisibleConversation, type VisibleConversation } from './visible.js';
import { tags } from '../../writes/tags.js';

/** The tags of the lists this domain resolves (see ListTags). */
export const conversationListTags: ListTags = {
  // The inbox: every write that adds to it, reorders it or changes its unread counts touches Inbox:<its owner>.
  'User.conversations': listTagOfParent(tags.inbox),
  // Fixed when the conversation is created: a write that changed them would touch the conversation.
  'Conversation.participants': listTagOfParent(tags.conversation),
};

/** node(id:) for conversations: the viewer's own, NOT_FOUND for any other. */
export const conversationNodes: Pick<NodeFetchers, 'Conversation'> = {
  Conversation: (id, context) => {
    requireViewer(context);
    return loadVisibleConversation(context, idOfType(id, 'Conversation', 'id'));
  },
};

/**
 * Conversations, and the fields of other types that lead to one: a user's
 * inbox, a message's conversation. Each goes through visible.ts, so a
 * non-participant cannot tell a conversation from one that does not exist.
 */
export const conversationResolvers: Resolvers = {
  Query: {
    conversation: (_parent, { id }, context) => {
      requireViewer(context);
      return loadVisibleConversation(context, idOfType(id, 'Conversation', 'id'));
    },
  },

  Mutation: {
    createConversation: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const participantIds = input.participantIds.map((id, index) => idOfType(id, 'User', `input.participantIds[${index}]`));
      const conversation = await createConversation(context.writer, viewer.id, { participantIds, title: input.title });
      // The viewer created it (or is one of the pair of an existing direct chat): a participant.
      context.loaders.visibleConversationById.prime(conversation.id, conversation);
      return { conversation: await loadVisibleConversation(context, conversation.id) };
    },

    markConversationRead: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const id = idOfType(input.conversationId, 'Conversation', 'input.conversationId');
      await markConversationRead(context.writer, viewer.id, id);
      return { conversation: await loadVisibleConversation(context, id) };
    },
  },

  // The database's values are lowercase.
  ConversationKind: { DIRECT: 'direct', GROUP: 'group' },

  Conversation: {
    id: (conversation) => toGlobalId('Conversation', conversation.id),
    participants: (conversation, _args, { loaders }) => loaders.participantsByConversation.load(conversation.id),
    unreadCount: (conversation, _args, { loaders }) => loaders.unreadCountByConversation.load(conversation.id),
  },

  ConversationConnection: connectionResolvers<VisibleConversation>(),

  User: {
    // The inbox: listed to its owner only (FORBIDDEN to anyone else).
    conversations: async (user, args, context) => {
      const page = parsePageArguments(args);
      const rows = await loadInboxPage(context, user.id, page);
      return toConnectionPage(rows, page, conversationKeyset, () => context.loaders.conversationCountByUser.load(user.id));
    },
  },

  Message: {
    conversation: (message, _args, context) => loadVisibleConversation(context, message.conversationId),
  },

  // Read after the write, only when the operation selects it: the sender took part, so it is visible.
  SendMessagePayload: {
    conversation: ({ message }, _args, context) => loadVisibleConversation(context, message.conversationId),
  },
};
