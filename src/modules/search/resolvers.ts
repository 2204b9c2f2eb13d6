import type { ListTags } from '../../cache/entity-tags.js';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { tags } from '../../writes/tags.js';
import { requireViewer } from '../../graphql/viewer.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { idOfType } from '../../graphql/relay/global-id.js';
import { parsePageSize } from '../../graphql/relay/page-arguments.js';
import { decodeSearchCursor } from './cursor.js';
import { highlightFragments } from './highlight.js';
import type { SearchResultRow } from './rows.js';
import { normalizeSearchQuery, searchMessages } from './search.js';

const searchPageResolvers = connectionResolvers<SearchResultRow>();

/**
 * The tag of a search (see ListTags): the viewer's own list. Any message sent
 * or edited in one of their conversations may match it, so sendMessage and
 * editMessage touch it for every participant, whether or not a cached
 * search listed the message.
 */
export const searchListTags: ListTags = {
  'Query.searchMessages': (_parentId, viewerId) => (viewerId !== undefined ? tags.search(viewerId) : undefined),
};

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
      const { page } = await searchMessages(context.db.pool, { viewerId: viewer.id, query, conversationId, order, size, after });
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
