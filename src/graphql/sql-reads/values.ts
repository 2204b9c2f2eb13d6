import type { NodeType } from '../relay/global-id.js';
import type { PageRequest } from '../relay/page-arguments.js';
import { jsonObjectSql, type SelectedField, type SqlScope } from './compile.js';

/**
 * The JSON of compiled reads, written by PostgreSQL as text, the text
 * JSON.stringify writes for what the resolvers and scalars answer: no
 * space, keys in the order selected, strings escaped as JavaScript escapes
 * them (PostgreSQL's to_json escapes the same characters the same way:
 * `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls as `\u00xx`).
 * Each helper returns an SQL expression of type text that is never NULL:
 * `null` stands for SQL's NULL.
 */

/** SQL's NULL as JSON's null. */
const orNull = (json: string): string => `coalesce(${json}, 'null')`;

/** A text column or expression as a JSON string (or null). */
export const stringSql = (expression: string): string => orNull(`to_json(${expression})::text`);

/** An integer as a JSON number (or null). */
export const intSql = (expression: string): string => orNull(`(${expression})::text`);

/** A condition as a JSON boolean; never NULL itself. */
export const booleanSql = (condition: string): string => `CASE WHEN ${condition} THEN 'true' ELSE 'false' END`;

/** Text that needs no escaping (ASCII letters, digits, `-_:.|`), as a JSON string (or null). */
const plainStringSql = (expression: string): string => orNull(`'"' || ${expression} || '"'`);

/** A timestamptz as DateTime serializes it (toISOString: UTC, milliseconds, `Z`), as a JSON string (or null). */
const isoText = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
export const isoSql = (column: string): string => plainStringSql(isoText(column));

/** base64url, unpadded, of ASCII text (Buffer's 'base64url'): PostgreSQL's base64 with its line breaks removed. */
const base64urlText = (text: string): string => `rtrim(translate(encode((${text})::bytea, 'base64'), E'+/\\n', '-_'), '=')`;

/** A global id (toGlobalId): base64url of `<Type>:<id>`, as a JSON string. */
export const globalIdSql = (type: NodeType, column: string): string => plainStringSql(base64urlText(`'${type}:' || ${column}`));

/** A keyset cursor (encodeCursor): base64url of `<ISO time>|<id>`, as a JSON string. */
const cursorText = (at: string, id: string): string => base64urlText(`${isoText(at)} || '|' || ${id}`);
export const cursorSql = (at: string, id: string): string => plainStringSql(cursorText(at, id));

/** A nullable object: its JSON, or null when `subquery` (one row, one column: the object's JSON) finds no row. */
export const nullableSql = (subquery: string): string => orNull(`(${subquery})`);

/** A JSON list of `element` (JSON text) over the rows of `from` (a FROM clause and what follows), in `order`; `[]` for no rows. */
export const listSql = (element: string, order: string, from: string): string =>
  `concat('[', (SELECT string_agg(${element}, ',' ORDER BY ${order}) ${from}), ']')`;

/** The object of `field`'s selections on `type` over `row` (SqlScope.object). */
export type ObjectSql = (field: SelectedField, row: string) => string;

/** One list paged by keyset, as a connection (connection.ts's toConnectionPage and connection-resolvers.ts). */
export interface KeysetConnection {
  /** The page read. */
  page: PageRequest;
  /**
   * The rows of the page in the direction read, at most `limit`, as a
   * subquery: ordered by the list's index in `order`, and kept to those
   * `after(at, id)` admits, given the index's columns (the cursor's bound,
   * or TRUE).
   */
  rows(order: 'DESC' | 'ASC', after: (at: string, id: string) => string, limit: number): string;
  /** The columns of a row (over the alias given) that order the list, newest first, and make its cursor. */
  sortAt: (row: string) => string;
  sortId: (row: string) => string;
  /** The node of an edge, over a row of `rows`. */
  node: ObjectSql;
  /** The list's total count, when selected (an integer expression). */
  totalCount: string;
  /** The name of the connection's types: `<prefix>Connection`, `<prefix>Edge`. */
  typePrefix: string;
}

/**
 * A connection's JSON: one pass over the page's rows (size + 1 in the
 * direction read, the extra saying another page follows), numbered in that
 * direction; edges and cursors of the first `size`, newest first.
 */
export function connectionSql(field: SelectedField, scope: SqlScope, connection: KeysetConnection): string | undefined {
  const { page, sortAt, sortId } = connection;
  const x = scope.alias('page');
  const readOrder = page.forward ? 'DESC' : 'ASC';
  const newestFirst = `${sortAt(x)} DESC, ${sortId(x)} DESC`;
  const kept = `FILTER (WHERE ${x}.rn <= ${page.size})`;
  const cursorOf = cursorText(sortAt(x), sortId(x));
  const more = `count(*) > ${page.size}`;
  const hasCursor = page.cursor ? 'true' : 'false';
  const entries: [string, string][] = [];
  for (const selected of scope.fieldsOf(field)) {
    let value: string | undefined;
    switch (selected.name) {
      case '__typename':
        value = `'"${connection.typePrefix}Connection"'`;
        break;
      case 'totalCount':
        value = intSql(connection.totalCount);
        break;
      case 'edges': {
        const edge: [string, string][] = [];
        for (const edgeField of scope.fieldsOf(selected)) {
          if (edgeField.name === '__typename') edge.push([edgeField.key, `'"${connection.typePrefix}Edge"'`]);
          else if (edgeField.name === 'cursor') edge.push([edgeField.key, plainStringSql(cursorOf)]);
          else if (edgeField.name === 'node') edge.push([edgeField.key, connection.node(edgeField, x)]);
          else return undefined;
        }
        value = `concat('[', string_agg(${jsonObjectSql(edge)}, ',' ORDER BY ${newestFirst}) ${kept}, ']')`;
        break;
      }
      case 'pageInfo': {
        const info: [string, string][] = [];
        for (const infoField of scope.fieldsOf(selected)) {
          const infoValue = {
            __typename: `'"PageInfo"'`,
            hasNextPage: booleanSql(page.forward ? more : hasCursor),
            hasPreviousPage: booleanSql(page.forward ? hasCursor : more),
            startCursor: plainStringSql(`(array_agg(${cursorOf} ORDER BY ${newestFirst}) ${kept})[1]`),
            endCursor: plainStringSql(`(array_agg(${cursorOf} ORDER BY ${sortAt(x)} ASC, ${sortId(x)} ASC) ${kept})[1]`),
          }[infoField.name];
          if (infoValue === undefined) return undefined;
          info.push([infoField.key, infoValue]);
        }
        value = jsonObjectSql(info);
        break;
      }
      default:
        return undefined;
    }
    entries.push([selected.key, value]);
  }
  const { cursor } = page;
  const bound = cursor
    ? (at: string, id: string) => `(${at}, ${id}) ${page.forward ? '<' : '>'} (${scope.param(cursor.at, 'timestamptz')}, ${scope.param(cursor.id, 'bigint')})`
    : () => 'TRUE';
  const numbered = `SELECT r.*, row_number() OVER (ORDER BY ${sortAt('r')} ${readOrder}, ${sortId('r')} ${readOrder}) AS rn
    FROM (${connection.rows(readOrder, bound, page.size + 1)}) r`;
  // GROUP BY (): one row, whether its fields aggregate the page's rows or
  // not (totalCount alone), and however many rows the page has (none too).
  return `(SELECT ${jsonObjectSql(entries)} FROM (${numbered}) ${x} GROUP BY ())`;
}
