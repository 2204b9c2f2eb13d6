// The cache updates Parley's schema leaves to clients: where a conversation
// sits in the inbox, and where a new message goes in what the client has
// already read. A payload or an event brings back every object it changed,
// so their fields update in a normalized cache by themselves; no payload can
// say where in a client's loaded pages something moved to.
//
// Each helper takes the object as it arrived, a mutation's payload or a
// subscription's event alike, after Apollo Client has written it to the
// cache (in a mutation's `update`, or a subscription's `onData`/`next`):
//
//   sendMessage        addMessage(message), placeConversationInInbox(conversation)
//   createConversation placeConversationInInbox(conversation)
//   messageAdded       addMessage(message)
//   conversationUpdated placeConversationInInbox(conversation)
//   leaveConversation  removeConversation(conversationId)
//
// The inbox is the server's keyset order, (last activity, id), newest first,
// where last activity is `lastMessageAt ?? createdAt`. Its loaded pages end
// at pageInfo.endCursor, a point in that order: the next page is every
// conversation below it, as the server sees them when asked. A conversation
// whose activity grows leaves its place for one above that point, so the
// next page no longer holds it, and the stored endCursor stays right for
// paging on. What must change is the moved edge's cursor: Apollo's
// relayStylePagination splices a page read `after: X` behind the loaded edge
// whose cursor is X, and the moved edge kept the old cursor. When that was
// the endCursor, the next page went in behind position 0 and every other
// loaded conversation vanished from the cache (93 of 112 reachable). A moved
// or added edge therefore carries an empty cursor (its new one is the
// server's to issue): no page is ever spliced behind it, and a page read
// after an endCursor no edge carries any more is appended at the end.
import type { ApolloCache, Reference } from '@apollo/client';

/** A connection as relayStylePagination stores it. */
interface StoredConnection {
  edges: readonly StoredEdge[];
  pageInfo?: { hasNextPage?: boolean; hasPreviousPage?: boolean };
}

interface StoredEdge {
  __typename?: string;
  cursor?: string;
  node: Reference;
}

/** readField as cache.modify's modifiers receive it. */
type ReadField = <Value>(fieldName: string, from: Reference) => Value | undefined;

/** A conversation as a payload or event brings it. */
export interface ConversationObject {
  /** The conversation's global ID. */
  id: string;
}

/** A message as a payload or event brings it. */
export interface MessageObject {
  /** The message's global ID. */
  id: string;
  /** When it was sent (ISO-8601): its place in the history. */
  createdAt: string;
  /** Its cursor in the history, where the operation selects it; without it the new edge has an empty cursor. */
  cursor?: string | null;
  /** The conversation it belongs to. */
  conversation: ConversationObject;
}

/** Who the cache belongs to: the inbox is the viewer's `conversations`. */
export interface Viewer {
  /** The signed-in user's global ID (`viewer { id }`). */
  viewerId: string;
}

/**
 * Puts a conversation where its last activity places it in the viewer's
 * inbox (for new activity, the top), after its fields changed in the cache:
 * a message sent or received, a conversation created, a `conversationUpdated`
 * event. A conversation that is still in order where it is stays there with
 * its cursor. One the loaded pages lack is added, unless it falls below them
 * while more pages follow (the next page brings it). An added conversation
 * must have been written with what the inbox selects (`...InboxConversation`
 * and `$messages`): one written with less makes the inbox incomplete, and
 * Apollo Client refetches its first page. Does nothing while no inbox is
 * cached, or when the cache lacks the conversation's activity (createdAt,
 * lastMessageAt).
 */
export function placeConversationInInbox(cache: ApolloCache, { viewerId, conversation }: Viewer & { conversation: ConversationObject }): void {
  placeInInbox(cache, viewerId, conversation.id, { addWhenMissing: true });
}

/**
 * A new message, from `sendMessage`'s payload or a `messageAdded` event:
 * puts it on top of the conversation's history and preview where they are
 * cached (once, in the order of sending), makes it the conversation's last
 * message when it is newer, and moves the conversation to its place in the
 * inbox when the inbox lists it. A history that has newer messages not read
 * yet (`hasPreviousPage`) is left alone: the message would sit behind a gap.
 * The unread count is the server's (`conversationUpdated`, a payload). The
 * message must have been written with what the inbox and the history select
 * (`...MessageFields`), since it becomes their newest item.
 */
export function addMessage(cache: ApolloCache, { viewerId, message }: Viewer & { message: MessageObject }): void {
  const conversationId = cache.identify({ __typename: 'Conversation', id: message.conversation.id });
  const sentAt = Date.parse(message.createdAt);
  if (!conversationId || Number.isNaN(sentAt)) return;
  // One broadcast for both changes: a watcher never sees the new last message in the old place.
  cache.batch({
    update: (batch) => {
      addToConversation(batch, conversationId, message, sentAt);
      placeInInbox(batch, viewerId, message.conversation.id, { addWhenMissing: false });
    },
  });
}

/** The message in its conversation's history and previews, and as its last message when it is newer. */
function addToConversation(cache: ApolloCache, conversationId: string, message: MessageObject, sentAt: number): void {
  cache.modify<Record<string, unknown>>({
    id: conversationId,
    fields: {
      messages(existing, { readField, toReference }) {
        const history = existing as StoredConnection;
        if (history.pageInfo?.hasPreviousPage) return existing;
        const node = toReference({ __typename: 'Message', id: message.id });
        if (!node || history.edges.some((edge) => readField('id', edge.node) === message.id)) return existing;
        const edge: StoredEdge = { __typename: 'MessageEdge', cursor: message.cursor ?? '', node };
        const at = newestFirstIndex(history.edges, sentAt, (candidate) => sentAtOf(readField, candidate.node));
        return { ...history, edges: [...history.edges.slice(0, at), edge, ...history.edges.slice(at)] };
      },
      recentMessages(existing, { readField, toReference, storeFieldName, fieldName }) {
        const preview = existing as readonly Reference[];
        const node = toReference({ __typename: 'Message', id: message.id });
        if (!node || preview.some((item) => readField('id', item) === message.id)) return existing;
        const at = newestFirstIndex(preview, sentAt, (item) => sentAtOf(readField, item));
        return [...preview.slice(0, at), node, ...preview.slice(at)].slice(0, previewSize(storeFieldName, fieldName));
      },
      lastMessageAt(existing) {
        const last = typeof existing === 'string' ? Date.parse(existing) : Number.NaN;
        return Number.isNaN(last) || sentAt >= last ? message.createdAt : existing;
      },
      lastMessage(existing, { readField, toReference }) {
        const last = existing ? sentAtOf(readField, existing as Reference) : Number.NaN;
        return Number.isNaN(last) || sentAt >= last ? (toReference({ __typename: 'Message', id: message.id }) ?? existing) : existing;
      },
    },
  });
}

/**
 * Forgets a conversation the viewer no longer takes part in (after
 * `leaveConversation`, or a subscription on it ending with `NOT_FOUND`): its
 * inbox edge goes, and so does the conversation with what only it refers
 * to (its messages, unless something else still does). The pages on either
 * side keep their cursors.
 */
export function removeConversation(cache: ApolloCache, { viewerId, conversationId }: Viewer & { conversationId: string }): void {
  const userId = cache.identify({ __typename: 'User', id: viewerId });
  const id = cache.identify({ __typename: 'Conversation', id: conversationId });
  if (!userId || !id) return;
  cache.modify<{ conversations: StoredConnection }>({
    id: userId,
    fields: {
      conversations(existing, { readField }) {
        const inbox = existing as unknown as StoredConnection;
        const edges = inbox.edges.filter((edge) => readField('id', edge.node) !== conversationId);
        return edges.length === inbox.edges.length ? existing : { ...inbox, edges };
      },
    },
  });
  cache.evict({ id });
  cache.gc();
}

function placeInInbox(cache: ApolloCache, viewerId: string, conversationId: string, { addWhenMissing }: { addWhenMissing: boolean }): void {
  const userId = cache.identify({ __typename: 'User', id: viewerId });
  if (!userId) return;
  cache.modify<{ conversations: StoredConnection }>({
    id: userId,
    fields: {
      conversations(existing, { readField, toReference }) {
        const inbox = existing as unknown as StoredConnection;
        const node = toReference({ __typename: 'Conversation', id: conversationId });
        if (!node) return existing;
        const activity = lastActivityOf(readField, node);
        if (Number.isNaN(activity)) return existing;
        const index = inbox.edges.findIndex((edge) => readField('id', edge.node) === conversationId);
        if (index < 0 && !addWhenMissing) return existing;
        const activityAt = (position: number) => lastActivityOf(readField, inbox.edges[position]!.node);
        // Still in order between its neighbours: it stays, with its cursor.
        if (index >= 0 && (index === 0 || activityAt(index - 1) >= activity) && (index === inbox.edges.length - 1 || activity >= activityAt(index + 1))) {
          return existing;
        }
        const others = index < 0 ? inbox.edges : inbox.edges.filter((_edge, position) => position !== index);
        const at = newestFirstIndex(others, activity, (edge) => lastActivityOf(readField, edge.node));
        // Below every loaded conversation while more pages follow: a page read later holds it.
        if (index < 0 && at === others.length && inbox.pageInfo?.hasNextPage !== false) return existing;
        const edge: StoredEdge = { ...(index >= 0 ? inbox.edges[index] : { __typename: 'ConversationEdge' }), cursor: '', node };
        return { ...inbox, edges: [...others.slice(0, at), edge, ...others.slice(at)] };
      },
    },
  });
}

/** Where an item of time `at` goes in a newest-first list: before the first item not newer than it. */
function newestFirstIndex<Item>(items: readonly Item[], at: number, timeOf: (item: Item) => number): number {
  const index = items.findIndex((item) => !(timeOf(item) > at));
  return index < 0 ? items.length : index;
}

/** The inbox's sort key (the server's last_activity_at): NaN when the cache lacks it. */
function lastActivityOf(readField: ReadField, conversation: Reference): number {
  const at = readField<string | null>('lastMessageAt', conversation) ?? readField<string>('createdAt', conversation);
  return at ? Date.parse(at) : Number.NaN;
}

function sentAtOf(readField: ReadField, message: Reference): number {
  const at = readField<string>('createdAt', message);
  return at ? Date.parse(at) : Number.NaN;
}

/** The schema's default page size for `recentMessages(first:)`. */
const DEFAULT_PREVIEW = 20;

/**
 * The `first` a cached preview was read with. The cache keeps one entry per
 * argument set, named `recentMessages({"first":3})` (Apollo Client's store
 * field name: the field and its arguments as JSON); a modifier sees that
 * name, not the arguments.
 */
function previewSize(storeFieldName: string, fieldName: string): number {
  const suffix = storeFieldName.slice(fieldName.length);
  if (!suffix.startsWith('(')) return DEFAULT_PREVIEW;
  try {
    const args = JSON.parse(suffix.slice(1, -1)) as { first?: unknown };
    return typeof args.first === 'number' ? args.first : DEFAULT_PREVIEW;
  } catch {
    return DEFAULT_PREVIEW;
  }
}
