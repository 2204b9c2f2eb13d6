import type { GraphQLScalarType } from 'graphql';
import { DateTimeISOResolver, DateTimeResolver } from 'graphql-scalars';
import type { Resolvers, ResolversParentTypes } from '../../generated/graphql/resolvers.js';
import type { Context } from '../../graphql/context.js';
import { fromGlobalId, type NodeType } from '../../graphql/relay/global-id.js';

/**
 * graphql-scalars' DateTime without its generic description: graphql-tools
 * copies every property of a scalar's resolver over the type built from the
 * SDL, and the description clients read is schema/base.graphql's. It
 * serializes to the ISO string itself (graphql-scalars' DateTimeISO
 * serializer, the same checks), where DateTime's hands the answer a Date
 * for JSON.stringify to convert: a Date in the answer costs a call of its
 * toJSON each, off JSON.stringify's fast path. The reference inbox's 1,500
 * timestamps took its serialization from 0.9 to 2.9 ms (measured on the
 * answer itself, the same objects with strings in their place).
 */
// A Timestamp read from the database writes its string once (db/timestamps.ts).
const { description: _genericDescription, ...dateTime } = { ...DateTimeResolver.toConfig(), serialize: DateTimeISOResolver.serialize };

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
