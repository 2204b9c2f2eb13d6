// The one shape of Parley's keyset page SQL, shared by every list
// read as pages of a connection (the inbox, the history). A statement that
// reads pages builds its FROM with keysetPagesFrom and its parameters with
// keysetPageParameters; its own docstring says which index it probes.
import type { PageRequest } from './page-arguments.js';

/** Where one list's rows are, in the order of an index that serves its pages. */
export interface KeysetSource {
  /** The table and its alias, e.g. `messages m`. */
  from: string;
  /** The column that names a row's list (an integer): the index's first column, e.g. `m.conversation_id`. */
  list: string;
  /** The sort key after it, as the index orders it (both DESC): a timestamp, then the id that breaks ties. */
  at: string;
  id: string;
  /** What each row of a page brings, e.g. `p.conversation_id`. */
  select: string;
}

/** One page of one list: the list's id (KeysetSource.list) and the page asked for. */
export interface KeysetPageKey {
  list: number;
  page: PageRequest;
}

/**
 * The FROM item of a statement reading many (list, page) keys at once: the
 * keys as `k` (with `k.ordinal`, the key's 1-based position), each joined
 * LATERAL to its page's rows as `page`. Each page is a range of the
 * source's index, read in order from the cursor and stopped after the page
 * (`LIMIT size + 1`: the extra row tells whether another page follows), so
 * a page costs about a page of rows however long the list and however deep
 * the cursor. Forward pages read newest first from the cursor, backward
 * pages oldest first; rows come in no set order (toConnectionPage sorts).
 *
 * The cursor is one row comparison with the index's columns, which makes it
 * a bound of the index scan. Without a cursor the bound is ±infinity, never
 * `cursor IS NULL OR (at, id) < cursor`: PostgreSQL cannot use an OR as an
 * index bound, so that form reads the list from its start and filters every
 * row before the cursor (at 1M messages, a page 80,000 messages deep into a
 * conversation read 80,021 index entries in 13 ms, against 21 in 0.15 ms).
 * Uses parameters $1 to $5 (keysetPageParameters).
 */
export function keysetPagesFrom(source: KeysetSource): string {
  const { from, list, at, id, select } = source;
  return `unnest($1::int[], $2::int[], $3::timestamptz[], $4::bigint[], $5::boolean[])
          WITH ORDINALITY AS k(list_id, size, cursor_at, cursor_id, forward, ordinal)
     CROSS JOIN LATERAL (
       (SELECT ${select} FROM ${from}
        WHERE k.forward AND ${list} = k.list_id
          AND (${at}, ${id}) < (coalesce(k.cursor_at, 'infinity'), coalesce(k.cursor_id, 0))
        ORDER BY ${at} DESC, ${id} DESC
        LIMIT k.size + 1)
       UNION ALL
       (SELECT ${select} FROM ${from}
        WHERE NOT k.forward AND ${list} = k.list_id
          AND (${at}, ${id}) > (coalesce(k.cursor_at, '-infinity'), coalesce(k.cursor_id, 0))
        ORDER BY ${at} ASC, ${id} ASC
        LIMIT k.size + 1)
     ) page`;
}

/** The parameters $1 to $5 of keysetPagesFrom, for these keys in this order. */
export function keysetPageParameters(keys: readonly KeysetPageKey[]): unknown[] {
  return [
    keys.map((key) => key.list),
    keys.map((key) => key.page.size),
    keys.map((key) => key.page.cursor?.at ?? null),
    // bigint, as decodeCursor allows: a forged id beyond a list's id type then matches nothing rather than failing.
    keys.map((key) => key.page.cursor?.id ?? null),
    keys.map((key) => key.page.forward),
  ];
}
