/**
 * PostgreSQL's WAL positions (LSNs), as `pg_lsn` prints them (`16/B374D848`:
 * the high and low 32 bits in hexadecimal), read into bigints to compare
 * and subtract, and written as fixed-width hexadecimal for Redis, where
 * comparing two such strings compares the positions.
 */

/** A position in the WAL: bytes since its start. */
export type Lsn = bigint;

const PRINTED = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** Reads `16/B374D848`; undefined when `text` is not a position as pg_lsn prints it. */
export function parseLsn(text: string | null | undefined): Lsn | undefined {
  if (typeof text !== 'string') return undefined;
  const match = PRINTED.exec(text);
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** As pg_lsn prints it: `16/B374D848`. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Sixteen hexadecimal digits: what Redis keeps, so its string comparison orders positions. */
export function lsnKey(lsn: Lsn): string {
  return lsn.toString(16).padStart(16, '0');
}

/** The inverse of lsnKey; undefined for anything else. */
export function parseLsnKey(text: string | null | undefined): Lsn | undefined {
  return typeof text === 'string' && /^[0-9a-f]{16}$/.test(text) ? BigInt(`0x${text}`) : undefined;
}

/** The later of two positions, either possibly unknown. */
export function laterLsn(a: Lsn | undefined, b: Lsn | undefined): Lsn | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * A statement giving `lsn`: a WAL position past every transaction committed
 * so far (by this session or any), read on the primary. A replica that has
 * replayed up to it has replayed those commits. The insert position always
 * is (it may point past a page header, when the WAL ends at a page boundary,
 * where a replica's replay position never goes until more WAL comes); when
 * commits wait for their WAL to be flushed (synchronous_commit is not off),
 * the flush position is too, and never points past a header: the smaller.
 */
export const COMMITTED_LSN_SQL = `SELECT (CASE WHEN current_setting('synchronous_commit') = 'off' THEN pg_current_wal_insert_lsn()
  ELSE least(pg_current_wal_insert_lsn(), pg_current_wal_flush_lsn()) END)::text AS lsn`;
