/**
 * DataLoader's contract: as many results as keys, in the keys' order. Rows
 * come back from SQL in any order and may be missing; this puts each in its
 * key's place and null where there is none.
 */
export function orderByKeys<Key, Row>(keys: readonly Key[], rows: readonly Row[], keyOf: (row: Row) => Key): (Row | null)[] {
  const byKey = new Map<Key, Row>();
  for (const row of rows) byKey.set(keyOf(row), row);
  return keys.map((key) => byKey.get(key) ?? null);
}

/** The same, for a relation with many rows per key: [] where there are none. */
export function groupByKeys<Key, Row>(keys: readonly Key[], rows: readonly Row[], keyOf: (row: Row) => Key): Row[][] {
  const byKey = new Map<Key, Row[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = byKey.get(key);
    if (group) group.push(row);
    else byKey.set(key, [row]);
  }
  return keys.map((key) => byKey.get(key) ?? []);
}

/**
 * For statements that answer many keys at once and tag each row with its
 * key's 1-based ordinal (unnest ... WITH ORDINALITY): the rows of each key,
 * in the keys' order, without the tag.
 */
export function groupByOrdinal<Row extends { ordinal: number }>(keyCount: number, rows: readonly Row[]): Omit<Row, 'ordinal'>[][] {
  return groupByKeys(
    Array.from({ length: keyCount }, (_unused, index) => index + 1),
    rows,
    (row) => row.ordinal,
  ).map((group) => group.map(({ ordinal: _ordinal, ...row }) => row));
}
