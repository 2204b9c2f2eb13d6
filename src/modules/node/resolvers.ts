import type { GraphQLScalarType } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import type { Resolvers, ResolversParentTypes } from '../../generated/graphql/resolvers.js';
import type { Context } from '../../graphql/context.js';
import { fromGlobalId, type NodeType } from '../../graphql/relay/global-id.js';

/**
 * graphql-scalars' DateTime without its generic description: graphql-tools
 * copies every property of a scalar's resolver over the type built from the
 * SDL, and the description clients read is schema/base.graphql's.
 */
const { description: _genericDescription, ...dateTime } = DateTimeResolver.toConfig();

/** The row of any Node type. */
export type NodeRow = ResolversParentTypes['Node'];

/**
 * How `node(id:)` finds an object of one type: `id` is the global id,
 * checked to be of that type. Each domain supplies the fetchers of the
 * types it owns, with its own rules (a conversation is visible to its
 * participants only); null or NOT_FOUND when there is none to see.
 */
export type NodeFetchers = { [Type in NodeType]: (id: string, context: Context) => Promise<NodeRow | null> };

/** Query.node, the Node interface and the scalars every domain shares; `fetchers`: every Node type's, from the domains that own them. */
export function nodeResolvers(fetchers: NodeFetchers): Resolvers {
  return {
    DateTime: dateTime as unknown as GraphQLScalarType,

    Query: {
      node: (_parent, { id }, context) => fetchers[fromGlobalId(id, 'id').type](id, context),
    },

    // Rows carry no type name; each type's row has a column the others lack.
    Node: {
      __resolveType: (node) => ('username' in node ? 'User' : 'kind' in node ? 'Conversation' : 'totalMessages' in node ? 'UserStats' : 'Message'),
    },
  };
}
