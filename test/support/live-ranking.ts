// Internal: each leaderboard computed live from the base tables by a plain
// SQL aggregate, without the statistics views: the oracle the views are
// checked against, and the live aggregate the benchmark times them against.
// Written apart from the views' SQL on purpose: messages are counted from
// `messages` (not from user_daily_activity), and streaks pair each run's
// first day with its last instead of grouping by day minus row number.
import type { Queryable } from '../../src/db/pool.js';

export interface LiveEntry {
  userId: number;
  value: number;
  rank: number;
}

// $1: the UTC day the ranking counts as today. Every user has a value (0
// for no activity), as every user has a row in the view.
const messagesSince = (firstDay: string | null) => `
  SELECT u.id AS user_id, count(m.id)::integer AS value
  FROM users u
  LEFT JOIN messages m ON m.author_id = u.id
    ${firstDay === null ? '' : `AND m.created_at >= (${firstDay})::timestamp AT TIME ZONE 'UTC'`}
  GROUP BY u.id`;

const xpSince = (firstDay: string) => `
  SELECT u.id AS user_id, coalesce(sum(a.xp_earned), 0)::integer AS value
  FROM users u
  LEFT JOIN user_daily_activity a ON a.user_id = u.id AND a.day >= ${firstDay}
  GROUP BY u.id`;

// Runs of consecutive UTC days with a message: a run starts on a day whose
// eve has none and ends on a day whose morrow has none; a user's k-th start
// and k-th end bound the k-th run.
const streaks = (current: boolean) => `
  WITH days AS (
    SELECT DISTINCT author_id AS user_id, (created_at AT TIME ZONE 'UTC')::date AS day FROM messages
  ),
  starts AS (
    SELECT d.user_id, d.day, row_number() OVER (PARTITION BY d.user_id ORDER BY d.day) AS n
    FROM days d WHERE NOT EXISTS (SELECT 1 FROM days e WHERE e.user_id = d.user_id AND e.day = d.day - 1)
  ),
  ends AS (
    SELECT d.user_id, d.day, row_number() OVER (PARTITION BY d.user_id ORDER BY d.day) AS n
    FROM days d WHERE NOT EXISTS (SELECT 1 FROM days e WHERE e.user_id = d.user_id AND e.day = d.day + 1)
  ),
  runs AS (
    SELECT s.user_id, e.day - s.day + 1 AS length, e.day AS last_day
    FROM starts s JOIN ends e ON e.user_id = s.user_id AND e.n = s.n
  )
  SELECT u.id AS user_id,
         coalesce(max(r.length) ${current ? 'FILTER (WHERE r.last_day >= $1::date - 1)' : ''}, 0)::integer AS value
  FROM users u LEFT JOIN runs r ON r.user_id = u.id
  GROUP BY u.id`;

/** Each user_stats_summary column's figure, from the base tables; "the last 7 days" are today and the 6 before. */
const LIVE_VALUES: Record<string, string> = {
  xp: 'SELECT id AS user_id, xp AS value FROM users',
  xp_7d: xpSince('$1::date - 6'),
  xp_30d: xpSince('$1::date - 29'),
  total_messages: messagesSince(null),
  messages_7d: messagesSince('$1::date - 6'),
  messages_30d: messagesSince('$1::date - 29'),
  current_streak: streaks(true),
  max_streak: streaks(false),
};

/** The statement ranking `column` live: $1 today (a date), $2 how many entries (null: all). */
export function liveRankingSql(column: string): string {
  const values = LIVE_VALUES[column];
  if (!values) throw new Error(`no live ranking for ${column}`);
  return `
    WITH today AS (SELECT $1::date AS day), -- types $1 where the figure has no period
    live AS (${values})
    SELECT user_id AS "userId", value, rank() OVER (ORDER BY value DESC)::integer AS rank
    FROM live
    ORDER BY value DESC, user_id
    LIMIT $2`;
}

/** The leaderboard of `column` as it stands in the base tables, best first (ties by user id). */
export async function liveRanking(db: Queryable, column: string, today: Date, limit: number | null = null): Promise<LiveEntry[]> {
  const { rows } = await db.query<LiveEntry>(liveRankingSql(column), [today.toISOString().slice(0, 10), limit]);
  return rows;
}
