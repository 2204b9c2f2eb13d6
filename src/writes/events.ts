/**
 * What a write tells the clients that follow it: events, published after
 * COMMIT (realtime/ carries them, across instances through Redis). Each goes
 * to one topic, so an instance hears only the topics its subscribers follow:
 * a conversation's (its messages, edits, typing, who left) or a user's (their
 * inbox). The domain that publishes an event names its type and shapes its
 * data, as JSON: it crosses Redis, and the in-process bus hands on what
 * Redis would (dates as ISO strings, bigint ids as strings).
 */
export type Topic = `conversation:${number}` | `user:${number}`;

/** Constructors for each kind of topic, so no caller spells one by hand. */
export const topics = {
  /** Everything said and done in a conversation, for its participants' subscriptions. */
  conversation: (id: number): Topic => `conversation:${id}`,
  /** One user's inbox: their conversations changed (conversationUpdated). */
  user: (id: number): Topic => `user:${id}`,
};

/** An event as a write records it (WriteTransaction.emit). */
export interface LiveEvent<Type extends string = string, Data = unknown> {
  topic: Topic;
  /** What happened, named by the domain that publishes it (`messageAdded`, `typing`, …). */
  type: Type;
  /** Plain JSON. */
  data: Data;
  /** Worth sending only now (typing): not published again after a failed publish. */
  transient?: true;
}

/** An event as the bus carries it: with when its write committed, for the commit-to-send latency. */
export interface PublishedEvent<Type extends string = string, Data = unknown> extends LiveEvent<Type, Data> {
  /** Milliseconds since the epoch (Date.now()) when the COMMIT returned. */
  committedAt: number;
}
