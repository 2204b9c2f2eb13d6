// Internal: how a search runs, chosen before it runs, from the planner's
// statistics (sql.ts, findSearchScope) and a cost model measured on the
// benchmark data (bench/search.ts). Each way reads a different thing, so
// each is cheap where another is not:
//
//   index          every match of the query, through the GIN index, kept
//                  if it is in one of the viewer's conversations: costs what
//                  the query matches in the whole table, whoever asks.
//   timeline       the viewer's messages, newest first, through
//                  messages (created_at, id) INCLUDE (conversation_id),
//                  each matched until enough are found: costs the messages
//                  walked past, others' included (dropped in the index).
//   conversations  each conversation's history, newest first, through
//                  messages (conversation_id, created_at, id), matched until
//                  enough are found in each: costs a descent per
//                  conversation and the messages walked in each.
//
// A rare word is found fastest by the index (few matches), a common one by a
// walk (the newest matches come at once); a viewer in few conversations
// walks them, one in thousands walks the timeline.

export type SearchStrategy = 'index' | 'timeline' | 'conversations';

/** What is known of a search before it runs; estimates, from the planner's statistics. */
export interface SearchEstimates {
  /** Messages in the table. */
  messages: number;
  /** Messages in the conversations searched. */
  visibleMessages: number;
  /** Conversations searched. */
  conversations: number;
  /** Share of all messages the query matches (0 to 1). */
  matchShare: number;
  /** Matches the page needs, newest first: a page and one more, or every ranked match (RANKED_MATCHES). */
  needed: number;
  /**
   * The most messages a walk reads (a ranking's RANKING_EXAMINED), or null
   * when it reads until it has found `needed` (a newest-first page). A walk
   * per conversation cannot keep to it across conversations: it is not
   * chosen where the conversations searched hold more messages than that.
   */
  walkLimit: number | null;
}

/**
 * Microseconds per unit of work, measured on the benchmark data (1M
 * messages, this machine, warm caches): only their ratios matter.
 */
export const COSTS = {
  /** A match the index finds: its bitmap entry, its row read, its conversation checked. */
  indexMatch: 1.5,
  /** An entry of the timeline index walked past (another user's message is dropped there). */
  timelineEntry: 0.25,
  /** A message of the viewer's read and matched during a walk (a primary key probe and the row). */
  walkedMessage: 3,
  /** Starting a walk of one conversation's history (an index descent). */
  conversationDescent: 10,
  /** A message read and matched in a conversation's history (its rows lie together). */
  historyMessage: 1.5,
};

/** The estimated cost of each strategy, in COSTS' microseconds. */
export function estimateCosts(estimates: SearchEstimates): Record<SearchStrategy, number> {
  const messages = Math.max(1, estimates.messages);
  const visible = Math.min(messages, Math.max(0, estimates.visibleMessages));
  const share = Math.min(1, Math.max(1 / messages, estimates.matchShare));
  // Messages a walk reads before it has found what it needs: all of the
  // viewer's when they hold fewer matches than needed, and never more than its limit.
  const walked = Math.min(visible, estimates.needed / share, estimates.walkLimit ?? Infinity);
  // The timeline walks everyone's messages between the newest and the last one it reads.
  const timelineEntries = visible > 0 ? Math.min(messages, walked * (messages / visible)) : 0;
  const historyWalked = Math.min(visible, estimates.conversations * (estimates.needed / share));
  const conversationsKeepToLimit = estimates.walkLimit === null || visible <= estimates.walkLimit;
  return {
    index: share * messages * COSTS.indexMatch,
    timeline: timelineEntries * COSTS.timelineEntry + walked * COSTS.walkedMessage,
    conversations: conversationsKeepToLimit ? estimates.conversations * COSTS.conversationDescent + historyWalked * COSTS.historyMessage : Infinity,
  };
}

/**
 * The cheapest strategy by estimateCosts; on a tie, the one listed first
 * (index, timeline, conversations). Without statistics (a table never
 * analyzed, so a small one), the index: what it reads is bounded by the
 * query's matches, whoever searches.
 */
export function chooseStrategy(estimates: SearchEstimates): SearchStrategy {
  if (estimates.messages <= 0) return 'index';
  const costs = estimateCosts(estimates);
  let best: SearchStrategy = 'index';
  for (const strategy of ['timeline', 'conversations'] as const) if (costs[strategy] < costs[best]) best = strategy;
  return best;
}
