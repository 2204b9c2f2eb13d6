/**
 * How users earn XP and levels: the one rule, shared by the seed and by
 * sendMessage so that seeded data and live data agree.
 *
 * - Every message sent earns {@link XP_PER_MESSAGE} XP, counted in
 *   `user_daily_activity.xp_earned` for the UTC day it was sent;
 *   `users.xp` is the sum of a user's `xp_earned`.
 * - The level grows with the square root of XP: level L is reached at
 *   `XP_PER_LEVEL_STEP × (L − 1)²` XP, so level 2 needs 100 XP (10 messages),
 *   level 3 needs 400, level 10 needs 8,100. Early levels come quickly; each
 *   next one takes a little longer.
 */

/** XP earned by sending one message. */
export const XP_PER_MESSAGE = 10;

/** XP of level 2; level L needs XP_PER_LEVEL_STEP × (L − 1)². */
export const XP_PER_LEVEL_STEP = 100;

/** The level a user with `xp` XP has (1 at 0 XP). */
export function levelForXp(xp: number): number {
  if (!Number.isInteger(xp) || xp < 0) throw new RangeError(`levelForXp: expected a whole number ≥ 0, got ${xp}`);
  return Math.floor(Math.sqrt(xp / XP_PER_LEVEL_STEP)) + 1;
}

/** The least XP at which a user reaches `level`. */
export function xpForLevel(level: number): number {
  if (!Number.isInteger(level) || level < 1) throw new RangeError(`xpForLevel: expected a whole number ≥ 1, got ${level}`);
  return XP_PER_LEVEL_STEP * (level - 1) ** 2;
}

/**
 * {@link levelForXp} as a SQL expression over `xpExpression` (a column or an
 * expression written by the caller, never user input), for statements that
 * update xp and level together. numeric keeps the square root exact at the
 * level boundaries, where a float could land just below an integer.
 */
export function levelForXpSql(xpExpression: string): string {
  return `(floor(sqrt((${xpExpression})::numeric / ${XP_PER_LEVEL_STEP})) + 1)::integer`;
}
