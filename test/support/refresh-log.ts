// Internal: what the refresh log (materialized_view_refreshes) recorded,
// read as tests compare it: the rows after a known id, oldest first.
import type { Queryable } from '../../src/db/pool.js';

export interface RecordedRefresh {
  id: number;
  outcome: string;
  rows: number | null;
  error: string | null;
  durationMs: number;
  /** started_at <= finished_at */
  ordered: boolean;
}

/** The refresh log since row `afterId`, oldest first. */
export async function refreshesSince(db: Queryable, afterId: number): Promise<RecordedRefresh[]> {
  const { rows } = await db.query<RecordedRefresh>(
    `SELECT id::integer, outcome, rows, error, duration_ms AS "durationMs", started_at <= finished_at AS ordered
     FROM materialized_view_refreshes WHERE id > $1 ORDER BY id`,
    [afterId],
  );
  return rows;
}

/** The id of the newest row of the refresh log, 0 when it is empty. */
export async function lastRefreshId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: number }>('SELECT coalesce(max(id), 0)::integer AS id FROM materialized_view_refreshes');
  return rows[0]!.id;
}
