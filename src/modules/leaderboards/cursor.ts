import { INTEGER_MAX } from '../../db/pool.js';
import { BadUserInputError } from '../../graphql/errors.js';

/**
 * Leaderboard cursors: the row's place in rank order, (value, user id),
 * base64url-encoded so clients treat it as opaque. The metric is part of it,
 * so a cursor of one leaderboard is refused by another.
 */
export interface LeaderboardKeyset {
  value: number;
  userId: number;
}

export function encodeLeaderboardCursor(column: string, keyset: LeaderboardKeyset): string {
  return Buffer.from(`${column}|${keyset.value}|${keyset.userId}`, 'utf8').toString('base64url');
}

export function decodeLeaderboardCursor(column: string, cursor: string, argument: string): LeaderboardKeyset {
  const [cursorColumn, value, userId, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const keyset = { value: Number(value), userId: Number(userId) };
  // Both are integer columns: anything else would make the statement fail.
  const fits = (number: number) => Number.isInteger(number) && number >= 0 && number <= INTEGER_MAX;
  if (
    cursorColumn !== column ||
    extra !== undefined ||
    !fits(keyset.value) ||
    !fits(keyset.userId) ||
    // the one spelling encodeLeaderboardCursor gives
    encodeLeaderboardCursor(column, keyset) !== cursor
  ) {
    throw new BadUserInputError(`${argument}: not a cursor of this leaderboard`, argument);
  }
  return keyset;
}
