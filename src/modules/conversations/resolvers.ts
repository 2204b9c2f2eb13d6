import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { messageKeyset } from '../messages/keyset.js';
import { toConnectionPage } from '../../graphql/relay/connection.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import type { Context } from '../../graphql/context.js';
import { NotFoundError } from '../../graphql/errors.js';
import { mapLive } from '../../realtime/map-live.js';
import { createConversation } from './create-conversation.js';
import { leaveConversation } from './leave-conversation.js';
import { followConversationUpdates, followTyping, typingEvent, type TypingRow } from './live.js';
import { markConversationRead } from './mark-read.js';
import { renameConversation } from './rename-conversation.js';
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

    // Nothing stored: checked like a read, then published to the conversation's subscribers.
    setTyping: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const id = idOfType(input.conversationId, 'Conversation', 'input.conversationId');
      await loadVisibleConversation(context, id);
      const participants = await context.loaders.participantsByConversation.load(id);
      const typing: TypingRow = { userId: viewer.id, expiresAt: new Date(Date.now() + context.realtime.typingSeconds * 1000) };
      await context.realtime.publish([
        typingEvent(
          id,
          typing,
          participants.map((user) => user.id),
        ),
      ]);
      return { expiresAt: typing.expiresAt };
    },

    leaveConversation: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      await leaveConversation(context.writer, viewer.id, idOfType(input.conversationId, 'Conversation', 'input.conversationId'));
      return { conversationId: input.conversationId };
    },

    renameConversation: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const id = idOfType(input.conversationId, 'Conversation', 'input.conversationId');
      await renameConversation(context.writer, viewer.id, id, input.title);
      return { conversation: await loadVisibleConversation(context, id) };
    },
  },

  Subscription: {
    conversationUpdated: {
      subscribe: async (_parent, _args, context) => {
        const viewer = requireViewer(context);
        // Resolved when sent, for the viewer: one they have left since is skipped.
        return mapLive(await followConversationUpdates(context, viewer.id), async (payload) => {
          try {
            await loadVisibleConversation(context, payload.conversationUpdated);
            return payload;
          } catch (error) {
            if (error instanceof NotFoundError) return undefined;
            throw error;
          }
        });
      },
      resolve: (payload: { conversationUpdated: number }, _args: unknown, context: Context) => loadVisibleConversation(context, payload.conversationUpdated),
    },
    typing: {
      subscribe: async (_parent, { conversationId }, context) => {
        const viewer = requireViewer(context);
        const id = idOfType(conversationId, 'Conversation', 'conversationId');
        await loadVisibleConversation(context, id);
        return followTyping(context, viewer.id, id);
      },
      resolve: (payload: { typing: TypingRow }) => payload.typing,
    },
  },

  TypingEvent: {
    user: async (typing, _args, { loaders }) => {
      const user = await loaders.userById.load(typing.userId);
      // Only a participant's typing is published: a missing user is a broken invariant.
      if (!user) throw new Error(`typing: user ${typing.userId} does not exist`);
      return user;
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
