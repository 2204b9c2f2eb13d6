/**
 * Where the in-process stores (the response cache's, the rate limits') and
 * what computes their times read the time: one is given to each, so a test
 * advances a clock instead of sleeping through a TTL, a window or a refill.
 * The Redis stores keep Redis's own clock (TIME, and key expiry) for what
 * Redis decides.
 */

/** Milliseconds since the Unix epoch, as Date.now() reads them. */
export type Clock = () => number;
