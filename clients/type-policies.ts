// Apollo Client's normalized cache for Parley: pass both to InMemoryCache,
//   new InMemoryCache({ typePolicies, possibleTypes })
// Every object a client caches has an `id` (Node, and UserStats with its own
// `UserStats:` id), so the cache keys them with no policy. What it cannot
// guess is how pages of a connection fit together: each paginated list is
// one cache entry per owner (and per the arguments that pick a different
// list, such as a leaderboard's metric), and pages read with
// `after`/`before` are spliced into it.
import type { PossibleTypesMap, TypePolicies } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

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
      conversations: relayStylePagination(),
    },
  },
  Conversation: {
    fields: {
      // The history, newest first: `after: endCursor` appends older
      // messages, `before: startCursor` (with `last`) prepends newer ones.
      // The inbox's preview is the separate field recentMessages, so a
      // preview never replaces a history that was paged further.
      messages: relayStylePagination(),
    },
  },
};

/** The types behind each interface, for fragments on `Node` (`node(id:) { ... on Message }`). */
export const possibleTypes: PossibleTypesMap = {
  Node: ['Conversation', 'Message', 'User', 'UserStats'],
};
