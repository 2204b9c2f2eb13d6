import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { conversationKeyset } from '../conversations/keyset.js';
import { loadInboxPage } from '../conversations/visible.js';
import { toConnectionPage } from '../../graphql/relay/connection.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import { parsePageArguments } from '../../graphql/relay/page-arguments.js';
import { findUserByUsername } from './sql.js';
import { updateProfile } from './update-profile.js';

export const userResolvers: Resolvers = {
  Query: {
    viewer: (_parent, _args, { viewer, loaders }) => (viewer ? loaders.userById.load(viewer.id) : null),
    user: (_parent, { id }, { loaders }) => loaders.userById.load(idOfType(id, 'User', 'id')),
    userByUsername: async (_parent, { username }, { db, loaders }) => {
      const user = await findUserByUsername(db.pool, username.trim().replace(/^@/, ''));
      if (user) loaders.userById.prime(user.id, user);
      return user;
    },
  },

  Mutation: {
    updateProfile: async (_parent, { input }, context) => {
      const viewer = requireViewer(context);
      const user = await updateProfile(context.writer, viewer.id, input);
      context.loaders.userById.prime(viewer.id, user);
      return { user };
    },
  },

  User: {
    id: (user) => toGlobalId('User', user.id),
    // Private: its owner sees it, nobody else does.
    email: (user, _args, { viewer }) => (viewer?.id === user.id ? user.email : null),
    stats: (user, _args, { loaders }) => loaders.statsByUser.load(user.id),
    conversations: async (user, args, context) => {
      const page = parsePageArguments(args);
      const rows = await loadInboxPage(context, user.id, page);
      return toConnectionPage(rows, page, conversationKeyset, () => context.loaders.conversationCountByUser.load(user.id));
    },
  },

  UserStats: {
    id: (stats) => toGlobalId('UserStats', stats.userId),
    messagesLast7Days: (stats) => stats.messages7d,
    messagesLast30Days: (stats) => stats.messages30d,
  },
};
