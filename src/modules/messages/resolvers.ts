import { listTagOfParent, type ListTags } from '../../cache/entity-tags.js';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { NotFoundError } from '../../graphql/errors.js';
import { toConnectionPage } from '../../graphql/relay/connection.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import type { NodeFetchers } from '../node/resolvers.js';
import { editMessage } from './edit-message.js';
import { messageKeyset } from './keyset.js';
import { decodeCursor, encodeCursor } from '../../graphql/relay/cursor.js';
import { followMessagesAdded, followMessagesEdited } from './live.js';
import type { MessageRow } from './rows.js';
import type { Context } from '../../graphql/context.js';
import type { UserRow } from '../users/rows.js';
import { sendMessage } from './send-message.js';
import { tags } from '../../writes/tags.js';

async function loadAuthor(loaders: Context['loaders'], message: MessageRow): Promise<UserRow> {
  const author = await loaders.userById.load(message.authorId);
  // messages.author_id references users: a missing author is a broken invariant, not a client error.
  if (!author) throw new Error(`message ${message.id}: author ${message.authorId} does not exist`);
  return author;
}

/** The tags of the lists this domain resolves (see ListTags): a conversation's messages, whole or previewed. */
export const messageListTags: ListTags = {
  'Conversation.messages': listTagOfParent(tags.messages),
  'Conversation.recentMessages': listTagOfParent(tags.messages),
};

/** node(id:) for messages: in the viewer's conversations only, NOT_FOUND for any other. */
export const messageNodes: Pick<NodeFetchers, 'Message'> = {
  Message: async (id, context) => {
    requireViewer(context);
    const message = await context.loaders.visibleMessageById.load(idOfType(id, 'Message', 'id'));
    if (!message) throw new NotFoundError('Message', id);
    return message;
  },
};

/** Messages, and a conversation's fields that list them: its history, its preview, its last message. */
export const messageResolvers: Resolvers = {
  Mutation: {
    sendMessage: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const conversationId = idOfType(input.conversationId, 'Conversation', 'input.conversationId');
      const message = await sendMessage(context.writer, viewer.id, { conversationId, body: input.body });
      context.loaders.visibleMessageById.prime(message.id, message);
      return { message };
    },

    editMessage: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const messageId = idOfType(input.messageId, 'Message', 'input.messageId');
      const message = await editMessage(context.writer, viewer.id, { messageId, body: input.body });
      context.loaders.visibleMessageById.prime(messageId, message);
      return { message };
    },
  },

  Subscription: {
    messageAdded: {
      subscribe: async (_parent, { conversationId, after }, context) => {
        const viewer = requireViewer(context);
        const id = idOfType(conversationId, 'Conversation', 'conversationId');
        const from = after == null ? null : decodeCursor(after, 'after');
        return followMessagesAdded(context, viewer.id, id, from);
      },
    },
    messageEdited: {
      subscribe: async (_parent, { conversationId }, context) => {
        const viewer = requireViewer(context);
        const id = idOfType(conversationId, 'Conversation', 'conversationId');
        return followMessagesEdited(context, viewer.id, id);
      },
      // As it is when sent: of two edits in quick succession, the second.
      resolve: async (payload: { messageEdited: string }, _args: unknown, { loaders }: Context) => {
        const message = await loaders.visibleMessageById.load(payload.messageEdited);
        if (!message) throw new NotFoundError('Message', toGlobalId('Message', payload.messageEdited));
        return message;
      },
    },
  },

  Message: {
    id: (message) => toGlobalId('Message', message.id),
    cursor: (message) => encodeCursor(messageKeyset(message)),
    // Synchronous where the message was read with its author (every read but a write's own answer,
    // and every live event): the loaders are not touched then, so a subscription's event makes none.
    author: (message, _args, context) => message.author ?? loadAuthor(context.loaders, message),
  },

  MessageConnection: connectionResolvers<MessageRow>(),

  Conversation: {
    lastMessage: (conversation, _args, { loaders }) => loaders.lastMessageByConversation.load(conversation.id),
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
};
