/**
 * What one operation may spend and what it spent, shared by the plugins that
 * measure it (cost, rate limits) and the resolvers that report it
 * (`Query.rateLimit`): one mutable object per request, in the context, so
 * the cost is computed once and read wherever it is needed.
 */
export interface OperationBudget {
  /** Set by the cost plugin once the operation and its variables are known. */
  cost?: OperationCost;
  /** Set by the rate-limit plugin before execution; undefined when rate limits are off. */
  rateLimit?: RateLimitStatus;
}

/** What every response carries in `extensions.cost` (as GitHub and Shopify answer theirs). */
export interface OperationCost {
  /** The operation's estimated cost. */
  requested: number;
  /** The most an operation may cost (MAX_QUERY_COST). */
  limit: number;
}

/** The viewer's points bucket once this operation's cost was taken from it (`Query.rateLimit`, the x-ratelimit-* headers). */
export interface RateLimitStatus {
  /** The bucket's capacity (RATE_LIMIT_POINTS). */
  limit: number;
  /** Whole points left in the bucket, this operation's cost taken. */
  remaining: number;
  /** When the bucket, refilling, is full again (`remaining` back to `limit`) if nothing more is spent. */
  resetAt: Date;
  /** What this operation cost. */
  cost: number;
}
