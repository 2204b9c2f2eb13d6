// The one cache update Parley's schema leaves to clients: where a
// conversation sits in the inbox. A mutation payload returns every object it
// changed, so their fields update in a normalized cache by themselves; the
// inbox's order is the server's (most recent activity first), and no payload
// can say where in a client's loaded pages a conversation moved to.
import type { ApolloCache, Reference } from '@apollo/client';

/** The inbox as relayStylePagination stores it. */
interface StoredConnection {
  edges: readonly { cursor?: string; node: Reference }[];
  pageInfo?: unknown;
}

/**
 * After `sendMessage` (or a message arriving), moves the conversation to the
 * top of the viewer's inbox in the cache, adding it when it was not in the
 * loaded pages. The edge keeps its old cursor: pages are read onwards from
 * `pageInfo.endCursor`, which this does not change.
 */
export function moveConversationToTop(cache: ApolloCache, { viewerId, conversationId }: { viewerId: string; conversationId: string }): void {
  cache.modify<{ conversations: StoredConnection }>({
    id: cache.identify({ __typename: 'User', id: viewerId }),
    fields: {
      conversations(existing, { readField, toReference }) {
        const inbox = existing as unknown as StoredConnection;
        const index = inbox.edges.findIndex((edge) => readField('id', edge.node) === conversationId);
        if (index === 0) return existing;
        const node = toReference({ __typename: 'Conversation', id: conversationId });
        if (!node) return existing;
        const edge = index > 0 ? inbox.edges[index]! : { __typename: 'ConversationEdge', cursor: '', node };
        const others = inbox.edges.filter((_edge, position) => position !== index);
        return { ...inbox, edges: [edge, ...others] };
      },
    },
  });
}
