/**
 * What a write touched, named so a cached answer can say what it contains:
 * an entity (`Conversation:12`, `User:7`, `Message:901`) or a list that
 * gains, loses or reorders items (`Inbox:7`, the conversations of user 7;
 * `Messages:12`, the messages of conversation 12; `Search:7`, what user 7's
 * searches can find; `Leaderboard`), or figures
 * computed periodically (`Stats`, every user's statistics). A write
 * reports every tag whose answers it may have changed; the response cache
 * drops those answers, and subscribers hear of it.
 */
export type Tag =
  `Conversation:${number}` | `User:${number}` | `Message:${string}` | `Inbox:${number}` | `Messages:${number}` | `Search:${number}` | 'Leaderboard' | 'Stats';

/** Constructors for each kind of tag, so no caller spells one by hand. */
export const tags = {
  conversation: (id: number): Tag => `Conversation:${id}`,
  user: (id: number): Tag => `User:${id}`,
  message: (id: string): Tag => `Message:${id}`,
  /** The conversation list (inbox) of a user: its order, its unread counts, its last messages. */
  inbox: (userId: number): Tag => `Inbox:${userId}`,
  /** The message list of a conversation. */
  messages: (conversationId: number): Tag => `Messages:${conversationId}`,
  /**
   * What a user's searches can find: the text of every message in their
   * conversations. A message sent or edited changes it for each participant,
   * whether or not a cached search listed that message.
   */
  search: (userId: number): Tag => `Search:${userId}`,
  leaderboard: (): Tag => 'Leaderboard',
  /** Every user's statistics (user_stats_summary): a refresh of the view changes them all. */
  stats: (): Tag => 'Stats',
};
