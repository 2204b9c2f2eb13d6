// Internal: the leaderboards domain's SQL, on the user_stats_summary
// materialized view (refreshed on a schedule, never computed per request).
// `column` always comes from leaderboardColumn's fixed list.
import type { Queryable } from '../../db/pool.js';
import type { LeaderboardKeyset } from './cursor.js';
import type { LeaderboardEntryRow } from './rows.js';

/**
 * A page in rank order (value DESC, user_id): a range scan of the metric's
 * index from the cursor, `size + 1` rows to tell whether more follow. A
 * row's rank is 1 + the users with a strictly higher value, counted on the
 * same index.
 */
export async function findLeaderboardPage(
  db: Queryable,
  column: string,
  page: { size: number; after: LeaderboardKeyset | null },
): Promise<(LeaderboardEntryRow & { refreshedAt: Date })[]> {
  const { rows } = await db.query<LeaderboardEntryRow & { refreshedAt: Date }>(
    `SELECT s.user_id AS "userId", s.${column} AS value, s.refreshed_at AS "refreshedAt",
            (SELECT count(*) FROM user_stats_summary higher WHERE higher.${column} > s.${column})::int + 1 AS rank
     FROM user_stats_summary s
     WHERE $1::int IS NULL OR s.${column} < $1 OR (s.${column} = $1 AND s.user_id > $2)
     ORDER BY s.${column} DESC, s.user_id
     LIMIT $3`,
    [page.after?.value ?? null, page.after?.userId ?? null, page.size + 1],
  );
  return rows;
}

/** One user's entry; null for a user the view has not seen yet. */
export async function findLeaderboardEntry(db: Queryable, column: string, userId: number): Promise<LeaderboardEntryRow | null> {
  const { rows } = await db.query<LeaderboardEntryRow>(
    `SELECT s.user_id AS "userId", s.${column} AS value,
            (SELECT count(*) FROM user_stats_summary higher WHERE higher.${column} > s.${column})::int + 1 AS rank
     FROM user_stats_summary s WHERE s.user_id = $1`,
    [userId],
  );
  return rows[0] ?? null;
}

/** When the view was last computed; null while it holds no row. */
export async function findStatsRefreshedAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ refreshedAt: Date }>('SELECT refreshed_at AS "refreshedAt" FROM user_stats_summary LIMIT 1');
  return rows[0]?.refreshedAt ?? null;
}
