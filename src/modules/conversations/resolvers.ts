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
import type { Context } from '../../graphql/context.js';
import { NotFoundError } from '../../graphql/errors.js';
import { mapLive } from '../../realtime/map-live.js';
import { leaveConversation } from './leave-conversation.js';
import { followConversationUpdates, followTyping, typingEvent, type TypingRow } from './live.js';
import { renameConversation } from './rename-conversation.js';

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
