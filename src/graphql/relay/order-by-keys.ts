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

/**
 * The same, for a relation with many rows per key: [] where there are none.
 * `toItem` turns each row into what the key's list holds, in the same pass
 * (the row itself by default).
 */
export function groupByKeys<Key, Row, Item = Row>(
  keys: readonly Key[],
  rows: readonly Row[],
  keyOf: (row: Row) => Key,
  toItem: (row: Row) => Item = (row) => row as unknown as Item,
): Item[][] {
  const byKey = new Map<Key, Item[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = byKey.get(key);
    if (group) group.push(toItem(row));
    else byKey.set(key, [toItem(row)]);
  }
  return keys.map((key) => byKey.get(key) ?? []);
}

/**
 * For statements that answer many keys at once and tag each row with its
 * key's 1-based ordinal (unnest ... WITH ORDINALITY), read by `ordinalOf`:
 * the items of each key, in the keys' order, each row turned into its item
 * by `toItem` (which drops the tag) in the same pass: a row is mapped once,
 * never copied again.
 */
export function groupByOrdinal<Row, Item>(keyCount: number, rows: readonly Row[], ordinalOf: (row: Row) => number, toItem: (row: Row) => Item): Item[][] {
  const groups = Array.from({ length: keyCount }, (): Item[] => []);
  for (const row of rows) {
    const ordinal = ordinalOf(row);
    const group = groups[ordinal - 1];
    if (!group) throw new Error(`a row tagged with ordinal ${ordinal} answers none of the ${keyCount} keys`);
    group.push(toItem(row));
  }
  return groups;
}
