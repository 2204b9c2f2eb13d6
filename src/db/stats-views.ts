// Internal: what the readers of the statistics views (users, leaderboards)
// and their writer (jobs/) share. The views themselves are defined by the
// migrations.

/** The per-user statistics view; refreshes are logged under this name. */
export const USER_STATS_VIEW = 'user_stats_summary';

/**
 * When the statistics were computed: the start of the latest successful
 * refresh in the refresh log (a partial index on succeeded rows makes it one
 * probe), NULL before the first. A scalar subquery, so that a statement
 * reading the views returns it alongside its rows instead of costing a
 * statement of its own; PostgreSQL runs it once per statement.
 */
export const STATS_REFRESHED_AT_SQL = `(
  SELECT started_at FROM materialized_view_refreshes
  WHERE view_name = '${USER_STATS_VIEW}' AND outcome = 'succeeded'
  ORDER BY started_at DESC LIMIT 1
)`;
