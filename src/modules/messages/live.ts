// Internal: the messages domain's events (what sendMessage and editMessage
// publish after commit) and the streams its subscriptions return.
import type { Context } from '../../graphql/context.js';
import { NotFoundError } from '../../graphql/errors.js';
import type { LiveMeta } from '../../realtime/live-queue.js';
import type { Position, Sequenced } from '../../realtime/ordered-feed.js';
import { topics, type LiveEvent, type PublishedEvent } from '../../writes/events.js';
import { leftBy } from '../conversations/live.js';
import { loadVisibleConversation } from '../conversations/visible.js';
import type { Keyset } from '../../graphql/relay/cursor.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import type { UserRow } from '../users/rows.js';
import type { MessageRow } from './rows.js';
import { authorOfRow, findMessagesAfter, findNewestMessageKeyset, messageOfRow, type MessageAfterRow } from './sql.js';

export const MESSAGE_ADDED = 'messageAdded';
export const MESSAGE_EDITED = 'messageEdited';

/** A row as JSON: its dates as ISO strings. */
type Json<Row> = { [Field in keyof Row]: Row[Field] extends Date ? string : Row[Field] extends Date | null ? string | null : Row[Field] };

/** A new message, on its conversation's topic: the message and its author as committed, the message before it, who could read it. */
export interface MessageAddedData {
  message: Json<Omit<MessageRow, 'author'>>;
  author: Json<UserRow>;
  /** The conversation's newest message when this one was sent (read under the conversation's lock): the feed's check that none is missing. */
  previousId: string | null;
  /** The participants when it committed: only they receive it. */
  participantIds: number[];
}

/** An edit, on its conversation's topic: the subscribers read the message as it is when they send it. */
export interface MessageEditedData {
  messageId: string;
  participantIds: number[];
}

export function messageAddedEvent(
  message: MessageRow,
  author: UserRow,
  previousId: string | null,
  participantIds: number[],
): LiveEvent<typeof MESSAGE_ADDED, MessageAddedData> {
  const { author: _joined, ...row } = message;
  return {
    topic: topics.conversation(message.conversationId),
    type: MESSAGE_ADDED,
    data: {
      message: { ...row, createdAt: row.createdAt.toISOString(), editedAt: row.editedAt?.toISOString() ?? null },
      author: { ...author, createdAt: author.createdAt.toISOString(), lastActiveAt: author.lastActiveAt?.toISOString() ?? null },
      previousId,
      participantIds,
    },
  };
}

export function messageEditedEvent(conversationId: number, messageId: string, participantIds: number[]): LiveEvent<typeof MESSAGE_EDITED, MessageEditedData> {
  return { topic: topics.conversation(conversationId), type: MESSAGE_EDITED, data: { messageId, participantIds } };
}

/** A message of a conversation's feed: the row with its author, and who may read it. */
interface MessageItem extends Sequenced {
  message: MessageRow;
  participantIds: readonly number[];
}

function itemOfEvent(event: PublishedEvent): MessageItem {
  const { message, author, previousId, participantIds } = event.data as MessageAddedData;
  const createdAt = new Date(message.createdAt);
  return {
    message: {
      ...message,
      createdAt,
      editedAt: message.editedAt === null ? null : new Date(message.editedAt),
      author: { ...author, createdAt: new Date(author.createdAt), lastActiveAt: author.lastActiveAt === null ? null : new Date(author.lastActiveAt) },
    },
    position: { at: createdAt.getTime(), id: message.id },
    previousId,
    participantIds,
  };
}

function itemOfRow(row: MessageAfterRow): MessageItem {
  // Read in order: the feed needs no previous id for these.
  return {
    message: messageOfRow(row, authorOfRow(row)),
    position: { at: row.createdAt.getTime(), id: row.id },
    previousId: null,
    participantIds: row.participantIds,
  };
}

const keysetOf = (position: Position): Keyset => ({ at: new Date(position.at), id: position.id });
const notFound = (conversationId: number) => new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));

/**
 * The messages of a conversation for one subscriber, from after `after`
 * (replayed from the database) or from now, then live: each once, in
 * order, and only while the subscriber takes part (checked on every
 * message against the participants when it committed; leaving ends the
 * stream with NOT_FOUND). A conversation the viewer does not take part in
 * is NOT_FOUND before anything is followed, as for queries.
 */
export async function followMessagesAdded(
  context: Context,
  viewerId: number,
  conversationId: number,
  after: Keyset | null,
): Promise<AsyncIterableIterator<{ messageAdded: MessageRow } & LiveMeta>> {
  await loadVisibleConversation(context, conversationId);
  const { pool } = context.db;
  return context.realtime.followOrdered<MessageItem, { messageAdded: MessageRow }>({
    source: {
      topic: topics.conversation(conversationId),
      type: MESSAGE_ADDED,
      itemOf: itemOfEvent,
      fetchAfter: async (from, limit) => (await findMessagesAfter(pool, conversationId, from && keysetOf(from), limit)).map(itemOfRow),
      latest: async () => {
        const newest = await findNewestMessageKeyset(pool, conversationId);
        return newest && { at: newest.at.getTime(), id: newest.id };
      },
    },
    after: after && { at: after.at.getTime(), id: after.id },
    accept: (item, committedAt) => (item.participantIds.includes(viewerId) ? { messageAdded: item.message, committedAt } : notFound(conversationId)),
    acceptOther: (event) => (leftBy(event, viewerId) ? notFound(conversationId) : undefined),
  });
}

/** The ids of a conversation's edited messages, for one subscriber, while they take part; NOT_FOUND outside their conversations. */
export async function followMessagesEdited(
  context: Context,
  viewerId: number,
  conversationId: number,
): Promise<AsyncIterableIterator<{ messageEdited: string } & LiveMeta>> {
  await loadVisibleConversation(context, conversationId);
  return context.realtime.follow<{ messageEdited: string }>({
    topic: topics.conversation(conversationId),
    accept: (event) => {
      if (leftBy(event, viewerId)) return notFound(conversationId);
      if (event.type !== MESSAGE_EDITED) return undefined;
      const { messageId, participantIds } = event.data as MessageEditedData;
      return participantIds.includes(viewerId) ? { messageEdited: messageId, committedAt: event.committedAt } : notFound(conversationId);
    },
    // Read when sent: two edits of one message waiting are one.
    keyOf: (payload) => payload.messageEdited,
  });
}
