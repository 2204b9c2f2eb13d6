import type { ConnectionPage, PageOfRows } from './connection.js';

/** The fields every *Connection type resolves the same way: edges and pageInfo from any page of rows, totalCount from a ConnectionPage. */
export function connectionResolvers<Row>() {
  return {
    edges: (page: PageOfRows<Row>) => page.rows.map((row) => ({ cursor: page.cursorOf(row), node: row })),
    pageInfo: (page: PageOfRows<Row>) => ({
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.rows.length > 0 ? page.cursorOf(page.rows[0]!) : null,
      endCursor: page.rows.length > 0 ? page.cursorOf(page.rows[page.rows.length - 1]!) : null,
    }),
    totalCount: (page: ConnectionPage<Row>) => page.totalCount(),
  };
}
