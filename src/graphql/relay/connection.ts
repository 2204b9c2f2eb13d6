// A page of rows on its way to a GraphQL connection: the mapper of every
// *Connection type. Resolvers of edges, pageInfo and totalCount read it;
// totalCount is a function so it is computed only when a query asks for it.
import { encodeCursor, type Keyset } from './cursor.js';
import type { PageRequest } from './page-arguments.js';

/** Rows in the list's order with where they sit in it: what edges and pageInfo are resolved from. */
export interface PageOfRows<Row> {
  rows: Row[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  /** The opaque cursor of a row of this page. */
  cursorOf(row: Row): string;
}

export interface ConnectionPage<Row> extends PageOfRows<Row> {
  totalCount(): Promise<number>;
}

/** Orders keysets as lists are ordered: newest first, then the larger id first. */
export function compareKeysetsNewestFirst(a: Keyset, b: Keyset): number {
  const byTime = b.at.getTime() - a.at.getTime();
  if (byTime !== 0) return byTime;
  const [x, y] = [BigInt(a.id), BigInt(b.id)];
  return x === y ? 0 : x < y ? 1 : -1;
}

/**
 * Turns the rows a keyset query read (up to size + 1, from the direction of
 * the request, in any order) into a page in the list's own order. The extra
 * row only says that another page follows in the direction read.
 */
export function toConnectionPage<Row>(
  rows: readonly Row[],
  page: PageRequest,
  keysetOf: (row: Row) => Keyset,
  totalCount: () => Promise<number>,
): ConnectionPage<Row> {
  const more = rows.length > page.size;
  // Nearest the cursor first, so the extra row is the one dropped.
  const direction = page.forward ? 1 : -1;
  const kept = rows
    .map((row) => ({ row, keyset: keysetOf(row) }))
    .sort((a, b) => compareKeysetsNewestFirst(a.keyset, b.keyset) * direction)
    .slice(0, page.size)
    .map(({ row }) => row);
  if (!page.forward) kept.reverse();
  return {
    rows: kept,
    // A cursor given means rows exist on its other side (the cursor's own row at least).
    hasNextPage: page.forward ? more : page.cursor !== null,
    hasPreviousPage: page.forward ? page.cursor !== null : more,
    cursorOf: (row) => encodeCursor(keysetOf(row)),
    totalCount,
  };
}
