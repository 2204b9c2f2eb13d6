import type { ConnectionPage } from './connection.js';

/** The fields every *Connection type resolves the same way from a ConnectionPage. */
export function connectionResolvers<Row>() {
  return {
    edges: (page: ConnectionPage<Row>) => page.rows.map((row) => ({ cursor: page.cursorOf(row), node: row })),
    pageInfo: (page: ConnectionPage<Row>) => ({
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.rows.length > 0 ? page.cursorOf(page.rows[0]!) : null,
      endCursor: page.rows.length > 0 ? page.cursorOf(page.rows[page.rows.length - 1]!) : null,
    }),
    totalCount: (page: ConnectionPage<Row>) => page.totalCount(),
  };
}
