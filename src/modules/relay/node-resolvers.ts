import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { NotFoundError } from '../../graphql/errors.js';
import { loadVisibleConversation } from '../conversations/visible.js';
import { fromGlobalId, idOfType } from './global-id.js';

/** Query.node, the Node interface and the scalars every domain shares. */
export const nodeResolvers: Resolvers = {
  DateTime: DateTimeResolver,

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
      }
    },
  },

  // Rows carry no type name; each type's row has a column the others lack.
  Node: {
    __resolveType: (node) => ('username' in node ? 'User' : 'kind' in node ? 'Conversation' : 'Message'),
  },
};
