import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { messageKeyset } from '../messages/keyset.js';
import { toConnectionPage } from '../../graphql/relay/connection.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import { createConversation } from './create-conversation.js';
import { markConversationRead } from './mark-read.js';
import { loadVisibleConversation, type VisibleConversation } from './visible.js';

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
    lastMessage: (conversation, _args, { loaders }) => loaders.lastMessageByConversation.load(conversation.id),
    unreadCount: (conversation, _args, { loaders }) => loaders.unreadCountByConversation.load(conversation.id),
    // The same rows as messages(first:), through the same loader: a preview costs what the history's first page costs.
    recentMessages: async (conversation, { first }, { loaders }) => {
      const page = parsePageArguments({ first });
      const rows = await loaders.messagesByConversation.load({ conversationId: conversation.id, page });
      return toConnectionPage(rows, page, messageKeyset, () => loaders.messageCountByConversation.load(conversation.id)).rows;
    },
    messages: async (conversation, args, { loaders }) => {
      const page = parsePageArguments(args);
      const rows = await loaders.messagesByConversation.load({ conversationId: conversation.id, page });
      return toConnectionPage(rows, page, messageKeyset, () => loaders.messageCountByConversation.load(conversation.id));
    },
  },

  ConversationConnection: connectionResolvers<VisibleConversation>(),
};
