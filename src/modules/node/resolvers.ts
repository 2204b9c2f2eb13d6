import type { GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { NotFoundError } from '../../graphql/errors.js';
import { loadVisibleConversation } from '../conversations/visible.js';
import { fromGlobalId, idOfType } from '../../graphql/relay/global-id.js';

/**
 * graphql-scalars' DateTime without its generic description: graphql-tools
 * copies every property of a scalar's resolver over the type built from the
 * SDL, and the description clients read is schema/base.graphql's.
 */
const { description: _genericDescription, ...dateTime } = DateTimeResolver.toConfig();

/** Query.node, the Node interface and the scalars every domain shares. */
export const nodeResolvers: Resolvers = {
  DateTime: dateTime as unknown as GraphQLScalarType,

  Query: {
    node: async (_parent, { id }, context) => {
      const { type } = fromGlobalId(id, 'id');
      switch (type) {
        case 'User':
          return context.loaders.userById.load(idOfType(id, 'User', 'id'));
        case 'Conversation':
          requireViewer(context);
          return loadVisibleConversation(context, idOfType(id, 'Conversation', 'id'));
        case 'Message': {
          requireViewer(context);
          const message = await context.loaders.visibleMessageById.load(idOfType(id, 'Message', 'id'));
          if (!message) throw new NotFoundError('Message', id);
          return message;
        }
        case 'UserStats':
          // Public, like the user's profile; null until the statistics have been computed for the user.
          return context.loaders.statsByUser.load(idOfType(id, 'UserStats', 'id'));
      }
    },
  },

  // Rows carry no type name; each type's row has a column the others lack.
  Node: {
    __resolveType: (node) => ('username' in node ? 'User' : 'kind' in node ? 'Conversation' : 'totalMessages' in node ? 'UserStats' : 'Message'),
  },
};
