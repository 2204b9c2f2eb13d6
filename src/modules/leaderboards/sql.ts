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
const rankOf = (column: string, value: string) => `(SELECT rank FROM user_stats_ranks WHERE metric = '${column}' AND value = ${value})`;

/** A page of a leaderboard, as one statement reads it. */
export interface LeaderboardPageRows {
  /** Up to `size + 1` entries in rank order: one more than asked tells that more follow. */
  entries: LeaderboardEntryRow[];
  /** The viewer's entry when asked for; null when not asked or not in the view yet. */
  viewerEntry: LeaderboardEntryRow | null;
  /** When the figures were computed; undefined when the statement returned no row to carry it. */
  refreshedAt: Date | null | undefined;
}

/**
 * A page in rank order (value DESC, user_id), `size + 1` rows, with their
 * ranks, the viewer's own entry when `viewerId` is given, and when the
 * figures were computed: one statement, so all of it comes from the same
 * refresh even while one commits (two statements could straddle it: the
 * page before, the viewer's entry after).
 *
 * Both shapes of page are range scans of the metric's index (column DESC,
 * user_id) that stop after the page, whatever its depth. After a cursor
 * (v, u) the page is the rest of v's tie (column = v AND user_id > u), then
 * lower values (column < v): the one condition `column < v OR (column = v
 * AND user_id > u)` is no index range, and PostgreSQL read it by scanning
 * from the top and filtering (rank 90,000 of 100,000 users: 15 ms and 90,000
 * rows, against 0.3 ms and 21). The viewer's entry is a probe of the unique
 * user_id index.
 */
export async function findLeaderboardPage(
  db: Queryable,
  column: string,
  page: { size: number; after: LeaderboardKeyset | null; viewerId: number | null },
): Promise<LeaderboardPageRows> {
  const parameters: unknown[] = [page.size + 1];
  const parameter = (value: unknown) => `$${parameters.push(value)}`;
  let rows = `SELECT user_id, ${column} AS value FROM user_stats_summary ORDER BY ${column} DESC, user_id LIMIT $1`;
  if (page.after !== null) {
    const value = parameter(page.after.value);
    const userId = parameter(page.after.userId);
    rows = `(SELECT user_id, ${column} AS value FROM user_stats_summary
             WHERE ${column} = ${value} AND user_id > ${userId} ORDER BY ${column} DESC, user_id LIMIT $1)
            UNION ALL
            (SELECT user_id, ${column} AS value FROM user_stats_summary
             WHERE ${column} < ${value} ORDER BY ${column} DESC, user_id LIMIT $1)`;
  }
  const viewer =
    page.viewerId === null
      ? ''
      : `UNION ALL
         SELECT user_id, ${column}, true FROM user_stats_summary WHERE user_id = ${parameter(page.viewerId)}`;
  const { rows: found } = await db.query<LeaderboardEntryRow & { viewer: boolean; refreshedAt: Date | null }>(
    `SELECT entry.user_id AS "userId", entry.value, ${rankOf(column, 'entry.value')} AS rank, entry.viewer,
            ${STATS_REFRESHED_AT_SQL} AS "refreshedAt"
     FROM (
       (SELECT page.user_id, page.value, false AS viewer FROM (${rows}) AS page ORDER BY page.value DESC, page.user_id LIMIT $1)
       ${viewer}
     ) AS entry (user_id, value, viewer)
     ORDER BY entry.viewer, entry.value DESC, entry.user_id`,
    parameters,
  );
  const entry = ({ userId, value, rank }: LeaderboardEntryRow): LeaderboardEntryRow => ({ userId, value, rank });
  return {
    entries: found.filter((row) => !row.viewer).map(entry),
    viewerEntry: found.filter((row) => row.viewer).map(entry)[0] ?? null,
    refreshedAt: found[0]?.refreshedAt,
  };
}

/** When the figures were computed; null before the first refresh. Asked only when a page came back without a row. */
export async function findStatsRefreshedAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ refreshedAt: Date | null }>(`SELECT ${STATS_REFRESHED_AT_SQL} AS "refreshedAt"`);
  return rows[0]?.refreshedAt ?? null;
}
