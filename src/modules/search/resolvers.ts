import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { requireViewer } from '../../graphql/viewer.js';
import { loadVisibleConversation } from '../conversations/visible.js';
import { connectionResolvers } from '../relay/connection-resolvers.js';
import { idOfType } from '../relay/global-id.js';
import { parsePageSize } from '../relay/page-arguments.js';
import { decodeSearchCursor } from './cursor.js';
import { highlightFragments } from './highlight.js';
import type { SearchResultRow } from './rows.js';
import { normalizeSearchQuery, searchMessages } from './search.js';

const searchPageResolvers = connectionResolvers<SearchResultRow>();

export const searchResolvers: Resolvers = {
  Query: {
    searchMessages: async (_parent, args, context) => {
      const viewer = requireViewer(context);
      // Every argument is checked before a statement is sent.
      const query = normalizeSearchQuery(args.query, 'query');
      const order = args.orderBy ?? 'RELEVANCE';
      const size = parsePageSize(args.first, 'first');
      const after = args.after != null ? decodeSearchCursor(args.after, order, 'after') : null;
      const conversationId = args.conversationId != null ? idOfType(args.conversationId, 'Conversation', 'conversationId') : null;
      // NOT_FOUND, as for any path to a conversation the viewer is not in;
      // the search itself finds no conversation to search then either.
      const [{ page }] = await Promise.all([
        searchMessages(context.db.pool, { viewerId: viewer.id, query, conversationId, order, size, after }),
        conversationId !== null ? loadVisibleConversation(context, conversationId) : undefined,
      ]);
      // Read with their authors: later paths to them cost no statement.
      for (const row of page.rows) {
        if (row.author) context.loaders.userById.prime(row.author.id, row.author);
        context.loaders.visibleMessageById.prime(row.id, row);
      }
      return page;
    },
  },

  MessageSearchConnection: {
    edges: searchPageResolvers.edges,
    pageInfo: searchPageResolvers.pageInfo,
  },

  MessageSearchEdge: {
    highlight: (edge) => highlightFragments(edge.node.body, edge.node.headline),
  },
};
