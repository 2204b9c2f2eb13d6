import type { NodeType } from '../relay/global-id.js';
import type { PageRequest } from '../relay/page-arguments.js';
import type { SelectedField, SqlScope } from './compile.js';

/**
 * The values of compiled reads, written by PostgreSQL the way the resolvers
 * and scalars write them: each helper names the JavaScript it matches.
 */

/** A timestamptz as DateTime serializes it (toISOString: UTC, milliseconds, `Z`); null stays null. */
export const isoSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** base64url, unpadded, of ASCII text (Buffer's 'base64url'): PostgreSQL's base64 with its line breaks removed. */
const base64urlSql = (text: string): string => `rtrim(translate(encode((${text})::bytea, 'base64'), E'+/\\n', '-_'), '=')`;

/** A global id (toGlobalId): base64url of `<Type>:<id>`. */
export const globalIdSql = (type: NodeType, column: string): string => base64urlSql(`'${type}:' || ${column}`);

/** A keyset cursor (encodeCursor): base64url of `<ISO time>|<id>`. */
export const cursorSql = (at: string, id: string): string => base64urlSql(`${isoSql(at)} || '|' || ${id}`);

/** A JSON list that is never null: `[]` for no rows. */
export const listSql = (aggregate: string): string => `coalesce(${aggregate}, '[]'::json)`;

/** The object of `field`'s selections on `type` over `row`; undefined when one of them does not compile. */
export type ObjectSql = (field: SelectedField, row: string) => string | undefined;

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
  /** The list's total count, when selected. */
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
  const cursorOf = cursorSql(sortAt(x), sortId(x));
  const more = `count(*) > ${page.size}`;
  const hasCursor = page.cursor ? 'true' : 'false';
  const entries: string[] = [];
  for (const selected of scope.fieldsOf(field)) {
    let value: string | undefined;
    switch (selected.name) {
      case '__typename':
        value = `'${connection.typePrefix}Connection'`;
        break;
      case 'totalCount':
        value = connection.totalCount;
        break;
      case 'edges': {
        const edge: string[] = [];
        for (const edgeField of scope.fieldsOf(selected)) {
          if (edgeField.name === '__typename') edge.push(`'${edgeField.key}', '${connection.typePrefix}Edge'`);
          else if (edgeField.name === 'cursor') edge.push(`'${edgeField.key}', ${cursorOf}`);
          else if (edgeField.name === 'node') {
            const node = connection.node(edgeField, x);
            if (node === undefined) return undefined;
            edge.push(`'${edgeField.key}', ${node}`);
          } else return undefined;
        }
        value = listSql(`json_agg(json_build_object(${edge.join(', ')}) ORDER BY ${newestFirst}) ${kept}`);
        break;
      }
      case 'pageInfo': {
        const info: string[] = [];
        for (const infoField of scope.fieldsOf(selected)) {
          const infoValue = {
            __typename: `'PageInfo'`,
            hasNextPage: page.forward ? more : hasCursor,
            hasPreviousPage: page.forward ? hasCursor : more,
            startCursor: `(array_agg(${cursorOf} ORDER BY ${newestFirst}) ${kept})[1]`,
            endCursor: `(array_agg(${cursorOf} ORDER BY ${sortAt(x)} ASC, ${sortId(x)} ASC) ${kept})[1]`,
          }[infoField.name];
          if (infoValue === undefined) return undefined;
          info.push(`'${infoField.key}', ${infoValue}`);
        }
        value = `json_build_object(${info.join(', ')})`;
        break;
      }
      default:
        return undefined;
    }
    entries.push(`'${selected.key}', ${value}`);
  }
  const { cursor } = page;
  const bound = cursor
    ? (at: string, id: string) => `(${at}, ${id}) ${page.forward ? '<' : '>'} (${scope.param(cursor.at, 'timestamptz')}, ${scope.param(cursor.id, 'bigint')})`
    : () => 'TRUE';
  const numbered = `SELECT r.*, row_number() OVER (ORDER BY ${sortAt('r')} ${readOrder}, ${sortId('r')} ${readOrder}) AS rn
    FROM (${connection.rows(readOrder, bound, page.size + 1)}) r`;
  return `(SELECT json_build_object(${entries.join(', ')}) FROM (${numbered}) ${x})`;
}
