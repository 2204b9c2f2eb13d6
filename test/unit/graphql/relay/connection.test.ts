import { compareKeysetsNewestFirst, toConnectionPage } from '../../../../src/graphql/relay/connection.js';
import { connectionResolvers } from '../../../../src/graphql/relay/connection-resolvers.js';
import { decodeCursor, encodeCursor, type Keyset } from '../../../../src/graphql/relay/cursor.js';
import type { PageRequest } from '../../../../src/graphql/relay/page-arguments.js';

interface Row {
  id: string;
  at: Date;
}

const keysetOf = (row: Row): Keyset => ({ at: row.at, id: row.id });
const noCount = () => Promise.reject(new Error('totalCount was not asked for'));

// Ten rows, newest first as lists are ordered: minutes 10..1, with two ties
// on time (ids 9 and 10 at minute 9, ids 3 and 4 at minute 3) and ids of
// different lengths, so string order would differ from numeric order.
const start = Date.parse('2026-04-01T12:00:00.000Z');
const LIST: Row[] = [
  { id: '100', at: new Date(start + 10 * 60_000) },
  { id: '10', at: new Date(start + 9 * 60_000) },
  { id: '9', at: new Date(start + 9 * 60_000) },
  { id: '8', at: new Date(start + 8 * 60_000) },
  { id: '7', at: new Date(start + 7 * 60_000) },
  { id: '6', at: new Date(start + 6 * 60_000) },
  { id: '5', at: new Date(start + 5 * 60_000) },
  { id: '4', at: new Date(start + 3 * 60_000) },
  { id: '3', at: new Date(start + 3 * 60_000) },
  { id: '2', at: new Date(start + 1 * 60_000) },
];
const ids = (rows: readonly Row[]) => rows.map((row) => row.id);

/** A deterministic shuffle (rows come back from SQL in no set order). */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  let seed = 7;
  for (let index = copy.length - 1; index > 0; index -= 1) {
    seed = (seed * 48_271) % 2_147_483_647;
    const other = seed % (index + 1);
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

/**
 * What a keyset statement reads for `page` over LIST: up to size + 1 rows
 * from the cursor (or the list's end) in the direction read, here shuffled.
 */
function read(page: PageRequest): Row[] {
  const compare = (row: Row) => (page.cursor ? compareKeysetsNewestFirst(keysetOf(row), page.cursor) : 0);
  const rows = page.forward ? LIST.filter((row) => !page.cursor || compare(row) > 0) : [...LIST].reverse().filter((row) => !page.cursor || compare(row) < 0);
  return shuffled(rows.slice(0, page.size + 1));
}

const cursorOfIndex = (index: number) => decodeCursor(encodeCursor(keysetOf(LIST[index]!)), 'after');

describe('compareKeysetsNewestFirst', () => {
  it('puts the newer first, and on equal times the larger id first, comparing ids as numbers', () => {
    const at = new Date(start);
    const later = new Date(start + 1);
    expect(compareKeysetsNewestFirst({ at: later, id: '1' }, { at, id: '2' })).toBeLessThan(0);
    expect(compareKeysetsNewestFirst({ at, id: '2' }, { at: later, id: '1' })).toBeGreaterThan(0);
    expect(compareKeysetsNewestFirst({ at, id: '10' }, { at, id: '9' })).toBeLessThan(0);
    expect(compareKeysetsNewestFirst({ at, id: '9' }, { at, id: '10' })).toBeGreaterThan(0);
    expect(compareKeysetsNewestFirst({ at, id: '9223372036854775807' }, { at, id: '9223372036854775806' })).toBeLessThan(0);
    expect(compareKeysetsNewestFirst({ at, id: '5' }, { at: new Date(start), id: '5' })).toBe(0);
  });

  it('sorts a shuffled list back into list order', () => {
    const sorted = shuffled(LIST).sort((a, b) => compareKeysetsNewestFirst(keysetOf(a), keysetOf(b)));
    expect(ids(sorted)).toEqual(ids(LIST));
  });
});

describe('toConnectionPage', () => {
  it('forward from the start: the newest rows in list order, the extra row dropped', () => {
    const page: PageRequest = { forward: true, size: 4, cursor: null };
    const rows = read(page);
    expect(rows).toHaveLength(5);
    const connection = toConnectionPage(rows, page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(0, 4)));
    expect(connection.hasNextPage).toBe(true);
    expect(connection.hasPreviousPage).toBe(false);
  });

  it('forward after a cursor: the rows after it, with a previous page', () => {
    const page: PageRequest = { forward: true, size: 3, cursor: cursorOfIndex(1) };
    const connection = toConnectionPage(read(page), page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(2, 5)));
    expect(connection.hasNextPage).toBe(true);
    expect(connection.hasPreviousPage).toBe(true);
  });

  it('forward to the end: no next page when no extra row was read', () => {
    const page: PageRequest = { forward: true, size: 4, cursor: cursorOfIndex(5) };
    const rows = read(page);
    expect(rows).toHaveLength(4);
    const connection = toConnectionPage(rows, page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(6)));
    expect(connection.hasNextPage).toBe(false);
    expect(connection.hasPreviousPage).toBe(true);
  });

  it('forward over the whole list at once: neither next nor previous', () => {
    const page: PageRequest = { forward: true, size: LIST.length, cursor: null };
    const connection = toConnectionPage(read(page), page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST));
    expect(connection.hasNextPage).toBe(false);
    expect(connection.hasPreviousPage).toBe(false);
  });

  it('backward from the end: the oldest rows, still in list order, the extra row dropped', () => {
    const page: PageRequest = { forward: false, size: 4, cursor: null };
    const rows = read(page);
    expect(rows).toHaveLength(5);
    const connection = toConnectionPage(rows, page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(-4)));
    expect(connection.hasPreviousPage).toBe(true);
    expect(connection.hasNextPage).toBe(false);
  });

  it('backward before a cursor: the rows before it, with a next page', () => {
    const page: PageRequest = { forward: false, size: 3, cursor: cursorOfIndex(8) };
    const connection = toConnectionPage(read(page), page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(5, 8)));
    expect(connection.hasPreviousPage).toBe(true);
    expect(connection.hasNextPage).toBe(true);
  });

  it('backward to the start: no previous page when no extra row was read', () => {
    const page: PageRequest = { forward: false, size: 5, cursor: cursorOfIndex(3) };
    const rows = read(page);
    expect(rows).toHaveLength(3);
    const connection = toConnectionPage(rows, page, keysetOf, noCount);
    expect(ids(connection.rows)).toEqual(ids(LIST.slice(0, 3)));
    expect(connection.hasPreviousPage).toBe(false);
    expect(connection.hasNextPage).toBe(true);
  });

  it('pages of 0: no rows, and the read extra row still says whether there are more', () => {
    const forward: PageRequest = { forward: true, size: 0, cursor: null };
    const backward: PageRequest = { forward: false, size: 0, cursor: null };
    const ahead = toConnectionPage(read(forward), forward, keysetOf, noCount);
    const behind = toConnectionPage(read(backward), backward, keysetOf, noCount);
    expect(ahead.rows).toEqual([]);
    expect(ahead.hasNextPage).toBe(true);
    expect(behind.rows).toEqual([]);
    expect(behind.hasPreviousPage).toBe(true);
    const empty = toConnectionPage([], forward, keysetOf, noCount);
    expect(empty.hasNextPage).toBe(false);
    expect(empty.hasPreviousPage).toBe(false);
  });

  it('walks the whole list forward and backward, page by page, without gaps or repeats', () => {
    for (const size of [1, 3, 4, 10]) {
      const forwardIds: string[] = [];
      let cursor: PageRequest['cursor'] = null;
      for (let guard = 0; guard < 20; guard += 1) {
        const page: PageRequest = { forward: true, size, cursor };
        const connection = toConnectionPage(read(page), page, keysetOf, noCount);
        forwardIds.push(...ids(connection.rows));
        if (!connection.hasNextPage) break;
        cursor = decodeCursor(connection.cursorOf(connection.rows.at(-1)!), 'after');
      }
      expect(forwardIds).toEqual(ids(LIST));

      const backwardPages: string[][] = [];
      cursor = null;
      for (let guard = 0; guard < 20; guard += 1) {
        const page: PageRequest = { forward: false, size, cursor };
        const connection = toConnectionPage(read(page), page, keysetOf, noCount);
        backwardPages.unshift(ids(connection.rows));
        if (!connection.hasPreviousPage) break;
        cursor = decodeCursor(connection.cursorOf(connection.rows[0]!), 'before');
      }
      expect(backwardPages.flat()).toEqual(ids(LIST));
    }
  });

  it('leaves its input alone', () => {
    const page: PageRequest = { forward: false, size: 3, cursor: null };
    const rows = read(page);
    const before = ids(rows);
    toConnectionPage(rows, page, keysetOf, noCount);
    expect(ids(rows)).toEqual(before);
  });

  it('gives each row the cursor of its keyset', () => {
    const page: PageRequest = { forward: true, size: 3, cursor: null };
    const connection = toConnectionPage(read(page), page, keysetOf, noCount);
    for (const row of connection.rows) {
      const keyset = decodeCursor(connection.cursorOf(row), 'after');
      expect(keyset.id).toBe(row.id);
      expect(keyset.at.getTime()).toBe(row.at.getTime());
    }
  });

  it('counts only when asked', async () => {
    let calls = 0;
    const totalCount = async () => {
      calls += 1;
      return 42;
    };
    const page: PageRequest = { forward: true, size: 2, cursor: null };
    const connection = toConnectionPage(read(page), page, keysetOf, totalCount);
    expect(calls).toBe(0);
    await expect(connection.totalCount()).resolves.toBe(42);
    expect(calls).toBe(1);
  });
});

describe('connectionResolvers', () => {
  it('encodes a cursor only when a query reads it, and the same one toConnectionPage gives', () => {
    const page: PageRequest = { forward: true, size: 3, cursor: null };
    const connection = toConnectionPage(LIST.slice(0, 4), page, keysetOf, noCount);
    let encoded = 0;
    const counting = { ...connection, cursorOf: (row: Row) => ((encoded += 1), connection.cursorOf(row)) };
    const resolvers = connectionResolvers<Row>();
    const edges = resolvers.edges(counting);
    const pageInfo = resolvers.pageInfo(counting);
    expect(edges.map((edge) => edge.node.id)).toEqual(['100', '10', '9']);
    expect([pageInfo.hasNextPage, pageInfo.hasPreviousPage]).toEqual([true, false]);
    expect(encoded).toBe(0);
    expect(edges[1]!.cursor).toBe(connection.cursorOf(LIST[1]!));
    expect(pageInfo.endCursor).toBe(connection.cursorOf(LIST[2]!));
    expect(pageInfo.startCursor).toBe(connection.cursorOf(LIST[0]!));
    expect(encoded).toBe(3);
  });
});
