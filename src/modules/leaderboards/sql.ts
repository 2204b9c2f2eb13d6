// Internal: the leaderboards domain's SQL, on the statistics views
// (user_stats_summary, user_stats_ranks; refreshed on a schedule by
// src/jobs, never computed per request). `column` always comes from
// leaderboardColumn's fixed list, so statements may embed it.
import type { Queryable } from '../../db/pool.js';
import { STATS_REFRESHED_AT_SQL } from '../../db/stats-views.js';
import type { LeaderboardKeyset } from './cursor.js';
import type { LeaderboardEntryRow } from './rows.js';

/**
 * The rank of `value` on the leaderboard of `column`: one probe of
 * user_stats_ranks' unique (metric, value) index. Counting the users above
 * instead costs what the depth costs (rank 90,000 of 100,000: 6.5 ms a row).
 */
const rankOf = (column: string, value: string) =>
  `(SELECT rank FROM user_stats_ranks WHERE metric = '${column}' AND value = ${value})`;

/**
 * A page in rank order (value DESC, user_id): `size + 1` rows, to tell
 * whether more follow, with their ranks and when the figures were computed.
 * Both shapes are range scans of the metric's index (column DESC, user_id)
 * that stop after the page, whatever its depth. After a cursor (v, u) the
 * page is the rest of v's tie (column = v AND user_id > u), then lower
 * values (column < v): the one condition `column < v OR (column = v AND
 * user_id > u)` is no index range, and PostgreSQL read it by scanning from
 * the top and filtering (rank 90,000 of 100,000 users: 15 ms and 90,000
 * rows, against 0.3 ms and 21).
 */
export async function findLeaderboardPage(
  db: Queryable,
  column: string,
  page: { size: number; after: LeaderboardKeyset | null },
): Promise<(LeaderboardEntryRow & { refreshedAt: Date | null })[]> {
  const rows =
    page.after === null
      ? `SELECT user_id, ${column} AS value FROM user_stats_summary ORDER BY ${column} DESC, user_id LIMIT $1`
      : `(SELECT user_id, ${column} AS value FROM user_stats_summary
          WHERE ${column} = $2 AND user_id > $3 ORDER BY ${column} DESC, user_id LIMIT $1)
         UNION ALL
         (SELECT user_id, ${column} AS value FROM user_stats_summary
          WHERE ${column} < $2 ORDER BY ${column} DESC, user_id LIMIT $1)`;
  const { rows: entries } = await db.query<LeaderboardEntryRow & { refreshedAt: Date | null }>(
    `SELECT page.user_id AS "userId", page.value, ${rankOf(column, 'page.value')} AS rank,
            ${STATS_REFRESHED_AT_SQL} AS "refreshedAt"
     FROM (${rows}) AS page
     ORDER BY page.value DESC, page.user_id
     LIMIT $1`,
    page.after === null ? [page.size + 1] : [page.size + 1, page.after.value, page.after.userId],
  );
  return entries;
}

/** One user's entry (the view's unique user_id index, then the rank's); null for a user the view has not seen yet. */
export async function findLeaderboardEntry(db: Queryable, column: string, userId: number): Promise<LeaderboardEntryRow | null> {
  const { rows } = await db.query<LeaderboardEntryRow>(
    `SELECT s.user_id AS "userId", s.${column} AS value, ${rankOf(column, `s.${column}`)} AS rank
     FROM user_stats_summary s WHERE s.user_id = $1`,
    [userId],
  );
  return rows[0] ?? null;
}

/** When the figures were computed; null before the first refresh. Asked only when a page is empty. */
export async function findStatsRefreshedAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ refreshedAt: Date | null }>(`SELECT ${STATS_REFRESHED_AT_SQL} AS "refreshedAt"`);
  return rows[0]?.refreshedAt ?? null;
}
