// Internal: the conversations domain's events (inbox updates, typing, a
// participant leaving) and the streams its subscriptions return.
import type { Context } from '../../graphql/context.js';
import { NotFoundError } from '../../graphql/errors.js';
import type { LiveMeta } from '../../realtime/live-queue.js';
import { topics, type LiveEvent, type PublishedEvent } from '../../writes/events.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';

export const CONVERSATION_UPDATED = 'conversationUpdated';
export const TYPING = 'typing';
export const PARTICIPANT_LEFT = 'participantLeft';

/** What a TypingEvent is resolved from. */
export interface TypingRow {
  userId: number;
  expiresAt: Date;
}

/** Someone typing, on the conversation's topic: never stored. */
export interface TypingData {
  userId: number;
  expiresAt: string;
  /** The participants when it was sent: only they receive it. */
  participantIds: number[];
}

/** Someone left, on the conversation's topic: their subscriptions to it end. */
export interface ParticipantLeftData {
  userId: number;
}

/** One of a user's conversations changed as their inbox shows it, on the user's topic: resolved when sent, for them. */
export interface ConversationUpdatedData {
  conversationId: number;
}

/** One event per user whose inbox shows the change. */
export function conversationUpdatedEvents(
  conversationId: number,
  userIds: readonly number[],
): LiveEvent<typeof CONVERSATION_UPDATED, ConversationUpdatedData>[] {
  return userIds.map((userId) => ({ topic: topics.user(userId), type: CONVERSATION_UPDATED, data: { conversationId } }));
}

export function participantLeftEvent(conversationId: number, userId: number): LiveEvent<typeof PARTICIPANT_LEFT, ParticipantLeftData> {
  return { topic: topics.conversation(conversationId), type: PARTICIPANT_LEFT, data: { userId } };
}

export function typingEvent(conversationId: number, typing: TypingRow, participantIds: number[]): LiveEvent<typeof TYPING, TypingData> {
  return {
    topic: topics.conversation(conversationId),
    type: TYPING,
    data: { userId: typing.userId, expiresAt: typing.expiresAt.toISOString(), participantIds },
    transient: true,
  };
}

/** Whether an event of a conversation's topic says `userId` left it: their subscriptions to it end. */
export function leftBy(event: PublishedEvent, userId: number): boolean {
  return event.type === PARTICIPANT_LEFT && (event.data as ParticipantLeftData).userId === userId;
}

const notFound = (conversationId: number) => new NotFoundError('Conversation', toGlobalId('Conversation', conversationId));

/**
 * The ids of the viewer's conversations as they change, updates of one
 * conversation waiting to be sent merged into one (each is resolved when
 * sent, so nothing is lost by merging). The viewer's own topic: only the
 * writes that changed one of their conversations publish to it.
 */
export function followConversationUpdates(
  context: Pick<Context, 'realtime'>,
  viewerId: number,
): Promise<AsyncIterableIterator<{ conversationUpdated: number } & LiveMeta>> {
  return context.realtime.follow<{ conversationUpdated: number }>({
    topic: topics.user(viewerId),
    accept: (event) =>
      event.type === CONVERSATION_UPDATED
        ? { conversationUpdated: (event.data as ConversationUpdatedData).conversationId, committedAt: event.committedAt }
        : undefined,
    keyOf: (payload) => String(payload.conversationUpdated),
  });
}

/**
 * Others typing in a conversation, for one subscriber while they take part:
 * merged per user while waiting, dropped rather than queued when the client
 * falls behind, and never their own, nor one already expired.
 */
export function followTyping(
  context: Pick<Context, 'realtime'>,
  viewerId: number,
  conversationId: number,
): Promise<AsyncIterableIterator<{ typing: TypingRow } & LiveMeta>> {
  return context.realtime.follow<{ typing: TypingRow }>({
    topic: topics.conversation(conversationId),
    accept: (event) => {
      if (leftBy(event, viewerId)) return notFound(conversationId);
      if (event.type !== TYPING) return undefined;
      const data = event.data as TypingData;
      if (!data.participantIds.includes(viewerId)) return notFound(conversationId);
      const expiresAt = new Date(data.expiresAt);
      if (data.userId === viewerId || expiresAt.getTime() <= Date.now()) return undefined;
      return { typing: { userId: data.userId, expiresAt }, committedAt: event.committedAt, droppable: true };
    },
    keyOf: (payload) => String(payload.typing.userId),
  });
}
