/**
 * The arithmetic of a token bucket, with no store and no clock of its own:
 * the in-process limiter runs it as is, and the Redis script (limiter.ts)
 * runs the same steps in Lua, then hands its levels back here for the
 * figures a response carries.
 *
 * A bucket holds at most `capacity` tokens and refills continuously, at
 * `capacity` per `periodMs` (a bucket emptied is full again one period
 * later). An operation takes its cost if the bucket holds that much, and
 * nothing otherwise. Over any interval of t ms a caller can so spend at most
 * `capacity + capacity × t / periodMs`, where fixed windows let a burst at
 * the end of one window and another at the start of the next spend twice
 * the budget at once.
 */
export interface Bucket {
  /** The most the bucket holds, and what it holds when a caller is new or has been idle for a period. */
  capacity: number;
  /** The time to refill from empty to full, in milliseconds. */
  periodMs: number;
}

/** A bucket's level when it was last spent from: `tokens` at `at` (milliseconds, the store's clock). */
export interface BucketState {
  tokens: number;
  at: number;
}

/**
 * Room for the rounding of the refill (a level meant to be 3 may be computed
 * as 2.9999999999999996): a spend that is short by less than this fits.
 * The Lua script uses the same figure.
 */
export const EPSILON = 1e-9;

/** The tokens in the bucket at `now`: the last level plus what flowed in since, at most the capacity. No state: a full bucket. */
export function levelAt(bucket: Bucket, state: BucketState | undefined, now: number): number {
  if (!state) return bucket.capacity;
  // A clock that went back refills nothing (and takes nothing).
  const elapsed = Math.max(0, now - state.at);
  return Math.min(bucket.capacity, state.tokens + (elapsed * bucket.capacity) / bucket.periodMs);
}

/** The level after taking `cost` from `tokens`, or undefined when they are not enough (then nothing is taken). */
export function take(tokens: number, cost: number): number | undefined {
  return tokens + EPSILON >= cost ? Math.max(0, tokens - cost) : undefined;
}

/** Milliseconds until a bucket at `tokens` holds `wanted` (0 if it already does). */
export function msUntil(bucket: Bucket, tokens: number, wanted: number): number {
  const missing = Math.min(wanted, bucket.capacity) - tokens;
  return missing <= EPSILON ? 0 : (missing * bucket.periodMs) / bucket.capacity;
}

/**
 * Whole seconds to wait before `cost` fits in a bucket at `tokens` (the
 * `retry-after` of a refusal), at least 1. Meaningful only for a cost that
 * `fits`: above the capacity it is the time until the bucket is full, and no
 * wait helps (the limiter then gives no wait at all).
 */
export function retryAfterSeconds(bucket: Bucket, tokens: number, cost: number): number {
  return Math.max(1, Math.ceil(msUntil(bucket, tokens, cost) / 1000));
}

/** Whether an operation of `cost` can ever be taken from this bucket. */
export function fits(bucket: Bucket, cost: number): boolean {
  return cost <= bucket.capacity;
}

/** What a response says of a bucket at `tokens`: the whole tokens left, and the milliseconds until it is full again. */
export function bucketStatus(bucket: Bucket, tokens: number): { remaining: number; msUntilFull: number } {
  return { remaining: Math.max(0, Math.floor(tokens + EPSILON)), msUntilFull: msUntilFull(bucket, tokens) };
}

/** Milliseconds an untouched bucket takes to be full again from `tokens`: the longest a store needs to remember it. */
export function msUntilFull(bucket: Bucket, tokens: number): number {
  return msUntil(bucket, tokens, bucket.capacity);
}
