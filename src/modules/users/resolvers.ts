import type { ListTags } from '../../cache/entity-tags.js';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { idOfType, toGlobalId } from '../../graphql/relay/global-id.js';
import type { NodeFetchers } from '../node/resolvers.js';
import { findUserByUsername } from './sql.js';
import { updateProfile } from './update-profile.js';
import { tags } from '../../writes/tags.js';

/** The tags of the fields this domain resolves from many rows (see ListTags): a refresh of the statistics changes every user's. */
export const userListTags: ListTags = {
  'User.stats': () => tags.stats(),
};

/** node(id:) for users and their statistics: public, like the profile; null when there is none. */
export const userNodes: Pick<NodeFetchers, 'User' | 'UserStats'> = {
  User: (id, { loaders }) => loaders.userById.load(idOfType(id, 'User', 'id')),
  // Null until the statistics have been computed for the user.
  UserStats: (id, { loaders }) => loaders.statsByUser.load(idOfType(id, 'UserStats', 'id')),
};

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
  },

  UserStats: {
    id: (stats) => toGlobalId('UserStats', stats.userId),
    messagesLast7Days: (stats) => stats.messages7d,
    messagesLast30Days: (stats) => stats.messages30d,
  },
};
