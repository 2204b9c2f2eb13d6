-- The scheduled refresh of the leaderboards' statistics (src/jobs):
--
-- 1. user_stats_summary loses refreshed_at. now() in every row made every
--    row differ at every refresh, so a concurrent refresh deleted and
--    re-inserted all of them (100,000 users: 5.9 s instead of 1.2 s when
--    nothing changed). When the figures were computed is the refresh log's
--    to say: the last successful refresh's started_at.
-- 2. user_stats_ranks: the rank of each value of each leaderboard column.
--    A rank (1 + the users with a higher value) depends on the value alone,
--    so a page reads its rows' ranks by (metric, value) instead of counting
--    the users above each row (a page at rank 90,000 of 100,000: 161 ms
--    counting, 0.3 ms looking up). Rank columns in user_stats_summary would
--    do the same for reads, but one active user moves the rank of everyone
--    they pass: with 1% of 100,000 users active, a concurrent refresh then
--    rewrote 99.7% of the rows (6.8 s, against 1.5 s + 0.1 s for the two
--    views). This view holds one row per distinct value (about 2,800 rows
--    for 100,000 users).
-- 3. materialized_view_refreshes records every run: its outcome, the rows
--    the view holds after it, and the error of a failed one.
--
-- Dropping and recreating the view locks its readers out until this
-- migration commits (about 2 s for 100,000 users).

DROP MATERIALIZED VIEW user_stats_summary;

-- One row per user. Streaks are runs of consecutive days with at least one
-- message: day minus its row number is constant within a run (gaps and
-- islands). A run is current when it reaches today or yesterday, so a streak
-- survives until a whole day passes without a message. Days are UTC days,
-- as user_daily_activity counts them, whatever the session's time zone
-- (current_date would follow it).
CREATE MATERIALIZED VIEW user_stats_summary AS
WITH today AS (
  SELECT (now() AT TIME ZONE 'UTC')::date AS utc_date
),
active_days AS (
  SELECT user_id, day,
         day - (row_number() OVER (PARTITION BY user_id ORDER BY day))::integer AS run_id
  FROM user_daily_activity
  WHERE messages_count > 0
),
runs AS (
  SELECT user_id, max(day) AS last_day, count(*)::integer AS length
  FROM active_days
  GROUP BY user_id, run_id
),
streaks AS (
  SELECT user_id,
         max(length) AS max_streak,
         max(length) FILTER (WHERE last_day >= today.utc_date - 1) AS current_streak
  FROM runs CROSS JOIN today
  GROUP BY user_id
),
totals AS (
  SELECT user_id,
         sum(messages_count)::integer AS total_messages,
         (sum(messages_count) FILTER (WHERE day > today.utc_date - 7))::integer AS messages_7d,
         (sum(messages_count) FILTER (WHERE day > today.utc_date - 30))::integer AS messages_30d,
         (sum(xp_earned) FILTER (WHERE day > today.utc_date - 7))::integer AS xp_7d,
         (sum(xp_earned) FILTER (WHERE day > today.utc_date - 30))::integer AS xp_30d
  FROM user_daily_activity CROSS JOIN today
  GROUP BY user_id
)
SELECT u.id AS user_id,
       coalesce(t.total_messages, 0) AS total_messages,
       coalesce(t.messages_7d, 0) AS messages_7d,
       coalesce(t.messages_30d, 0) AS messages_30d,
       u.xp,
       coalesce(t.xp_7d, 0) AS xp_7d,
       coalesce(t.xp_30d, 0) AS xp_30d,
       u.level,
       coalesce(s.current_streak, 0) AS current_streak,
       coalesce(s.max_streak, 0) AS max_streak,
       u.last_active_at AS last_activity_at
FROM users u
LEFT JOIN totals t ON t.user_id = u.id
LEFT JOIN streaks s ON s.user_id = u.id;

-- REFRESH MATERIALIZED VIEW CONCURRENTLY needs a unique index; it is also
-- the lookup of User.stats (statsByUser loader) and of a viewer's entry.
CREATE UNIQUE INDEX user_stats_summary_user_id_key ON user_stats_summary (user_id);

-- Leaderboards read the view in rank order, one index per metric:
--   SELECT user_id, xp FROM user_stats_summary ORDER BY xp DESC, user_id LIMIT $1
-- (user_id breaks ties so pages are stable), and a later page starts with
-- two range scans of the same index: the rest of the cursor's tie
-- (xp = $v AND user_id > $u), then the lower values (xp < $v).
-- Built in this transaction rather than CONCURRENTLY: the view is new.
CREATE INDEX user_stats_summary_xp_idx ON user_stats_summary (xp DESC, user_id);
CREATE INDEX user_stats_summary_xp_7d_idx ON user_stats_summary (xp_7d DESC, user_id);
CREATE INDEX user_stats_summary_xp_30d_idx ON user_stats_summary (xp_30d DESC, user_id);
CREATE INDEX user_stats_summary_total_messages_idx ON user_stats_summary (total_messages DESC, user_id);
CREATE INDEX user_stats_summary_messages_7d_idx ON user_stats_summary (messages_7d DESC, user_id);
CREATE INDEX user_stats_summary_messages_30d_idx ON user_stats_summary (messages_30d DESC, user_id);
CREATE INDEX user_stats_summary_current_streak_idx ON user_stats_summary (current_streak DESC, user_id);
CREATE INDEX user_stats_summary_max_streak_idx ON user_stats_summary (max_streak DESC, user_id);

-- One row per leaderboard column and value some user holds: the rank of
-- that value, 1 + the users with a higher one (so ties share a rank and the
-- next rank skips: 1, 2, 2, 4). Refreshed right after user_stats_summary,
-- in the same transaction, so readers always see the pair from one refresh.
CREATE MATERIALIZED VIEW user_stats_ranks AS
SELECT metric_value.metric, metric_value.value,
       (1 + sum(count(*)) OVER (PARTITION BY metric_value.metric ORDER BY metric_value.value DESC) - count(*))::integer AS rank
FROM user_stats_summary s
CROSS JOIN LATERAL (
  VALUES ('xp', s.xp), ('xp_7d', s.xp_7d), ('xp_30d', s.xp_30d),
         ('total_messages', s.total_messages), ('messages_7d', s.messages_7d), ('messages_30d', s.messages_30d),
         ('current_streak', s.current_streak), ('max_streak', s.max_streak)
) AS metric_value (metric, value)
GROUP BY metric_value.metric, metric_value.value;

-- The rank of a row on a page: WHERE metric = 'xp' AND value = $1. Unique,
-- so the view can be refreshed concurrently.
CREATE UNIQUE INDEX user_stats_ranks_metric_value_key ON user_stats_ranks (metric, value);

ALTER TABLE materialized_view_refreshes
  ADD COLUMN outcome text NOT NULL DEFAULT 'succeeded',
  ADD COLUMN rows integer,
  ADD COLUMN error text;
-- Rows written before this migration were successful refreshes by the seed;
-- from now on the writer says what happened.
ALTER TABLE materialized_view_refreshes ALTER COLUMN outcome DROP DEFAULT;
ALTER TABLE materialized_view_refreshes
  ADD CONSTRAINT materialized_view_refreshes_outcome_check
    CHECK (outcome IN ('succeeded', 'failed', 'cancelled', 'skipped')),
  -- a failed or cancelled run says why; the others have nothing to say
  ADD CONSTRAINT materialized_view_refreshes_error_check
    CHECK ((outcome IN ('failed', 'cancelled')) = (error IS NOT NULL)),
  ADD CONSTRAINT materialized_view_refreshes_rows_check
    CHECK (rows >= 0);

-- "When were the figures computed": the latest successful refresh, read by
-- every leaderboard page and User.stats batch as
--   SELECT started_at FROM materialized_view_refreshes
--   WHERE view_name = $1 AND outcome = 'succeeded' ORDER BY started_at DESC LIMIT 1
DROP INDEX materialized_view_refreshes_view_name_finished_at_idx;
CREATE INDEX materialized_view_refreshes_succeeded_idx
  ON materialized_view_refreshes (view_name, started_at DESC) WHERE outcome = 'succeeded';

-- Both views were computed just now, from the data as it stands: that is a
-- refresh, recorded as one.
INSERT INTO materialized_view_refreshes (view_name, started_at, finished_at, duration_ms, outcome, rows)
SELECT 'user_stats_summary', now(), clock_timestamp(),
       floor(extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, 'succeeded', count(*)::integer
FROM user_stats_summary;
