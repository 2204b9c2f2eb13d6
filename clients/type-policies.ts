// Apollo Client's normalized cache for Parley: pass both to InMemoryCache,
//   new InMemoryCache({ typePolicies, possibleTypes })
// Every object a client caches has an `id` (Node, and UserStats with its own
// `UserStats:` id), so the cache keys them with no policy. What it cannot
// guess is how pages of a connection fit together: each paginated list is
// one cache entry per owner (and per the arguments that pick a different
// list, such as a leaderboard's metric), and pages read with
// `after`/`before` are spliced into it.
import type { FieldPolicy, PossibleTypesMap, Reference, TypePolicies } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

/** A connection as relayStylePagination stores it. */
interface StoredConnection {
  edges: readonly { node: Reference | object }[];
}

/**
 * relayStylePagination where a node is listed once. A conversation moved up
 * by a cache update (clients/cache-updates.ts) while a page below was on its
 * way comes back in that page at its old place too: the first listing, the
 * one nearer the top, is the newer, and the later one is dropped. (A list
 * whose items only move up: the inbox, newest activity first; a history,
 * where a new message joins at the top.)
 */
function listedOncePagination(): FieldPolicy<StoredConnection> {
  const policy = relayStylePagination() as FieldPolicy<StoredConnection>;
  const merge = policy.merge as Extract<NonNullable<FieldPolicy<StoredConnection>['merge']>, (...args: never[]) => unknown>;
  return {
    ...policy,
    merge(existing, incoming, options) {
      const merged = merge(existing, incoming, options);
      const seen = new Set<unknown>();
      const edges = merged.edges.filter((edge) => {
        const key = options.isReference(edge.node) ? edge.node.__ref : edge.node;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      return edges.length === merged.edges.length ? merged : { ...merged, edges };
    },
  };
}

export const typePolicies: TypePolicies = {
  Query: {
    fields: {
      // A different metric or period is a different list.
      leaderboard: relayStylePagination(['metric', 'period']),
      // Another query, conversation or order is another list of results.
      searchMessages: relayStylePagination(['query', 'conversationId', 'orderBy']),
    },
  },
  User: {
    fields: {
      // The inbox: newest activity first.
      conversations: listedOncePagination(),
    },
  },
  Conversation: {
    fields: {
      // The history, newest first: `after: endCursor` appends older
      // messages, `before: startCursor` (with `last`) prepends newer ones.
      // The inbox's preview is the separate field recentMessages, so a
      // preview never replaces a history that was paged further.
      messages: listedOncePagination(),
    },
  },
};

/** The types behind each interface, for fragments on `Node` (`node(id:) { ... on Message }`). */
export const possibleTypes: PossibleTypesMap = {
  Node: ['Conversation', 'Message', 'User', 'UserStats'],
};
