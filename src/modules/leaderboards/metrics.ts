import { BadUserInputError } from '../../graphql/errors.js';

export type LeaderboardMetric = 'XP' | 'MESSAGES' | 'STREAK' | 'LONGEST_STREAK';
export type LeaderboardPeriod = 'ALL_TIME' | 'LAST_7_DAYS' | 'LAST_30_DAYS';

/**
 * The user_stats_summary column of each metric and period; each has its own
 * index (column DESC, user_id). Streaks are runs of days up to today, so no
 * period narrows them.
 */
const COLUMNS: Record<LeaderboardMetric, Partial<Record<LeaderboardPeriod, string>>> = {
  XP: { ALL_TIME: 'xp', LAST_7_DAYS: 'xp_7d', LAST_30_DAYS: 'xp_30d' },
  MESSAGES: { ALL_TIME: 'total_messages', LAST_7_DAYS: 'messages_7d', LAST_30_DAYS: 'messages_30d' },
  STREAK: { ALL_TIME: 'current_streak' },
  LONGEST_STREAK: { ALL_TIME: 'max_streak' },
};

/** Every leaderboard there is: each metric over each period it is ranked over, with its column. */
export const LEADERBOARDS: readonly { metric: LeaderboardMetric; period: LeaderboardPeriod; column: string }[] = Object.freeze(
  Object.entries(COLUMNS).flatMap(([metric, periods]) =>
    Object.entries(periods).map(([period, column]) => ({ metric: metric as LeaderboardMetric, period: period as LeaderboardPeriod, column })),
  ),
);

/** The column to rank by: a name from the table above, never user input, so statements may embed it. */
export function leaderboardColumn(metric: LeaderboardMetric, period: LeaderboardPeriod): string {
  const column = COLUMNS[metric][period];
  if (!column) throw new BadUserInputError(`period: ${metric} is ranked over ALL_TIME only (got ${period})`, 'period');
  return column;
}
