import type { ConnectionPage, PageOfRows } from './connection.js';

// Cursors are encoded when a query reads them: a list asked for its nodes
// alone (or for pageInfo's flags) encodes none.

/** An edge of a page. */
class Edge<Row> {
  constructor(
    readonly node: Row,
    private readonly page: PageOfRows<Row>,
  ) {}

  get cursor(): string {
    return this.page.cursorOf(this.node);
  }
}

/** A page's PageInfo. */
class PageInfo<Row> {
  constructor(private readonly page: PageOfRows<Row>) {}

  get hasNextPage(): boolean {
    return this.page.hasNextPage;
  }

  get hasPreviousPage(): boolean {
    return this.page.hasPreviousPage;
  }

  get startCursor(): string | null {
    const first = this.page.rows[0];
    return first === undefined ? null : this.page.cursorOf(first);
  }

  get endCursor(): string | null {
    const last = this.page.rows.at(-1);
    return last === undefined ? null : this.page.cursorOf(last);
  }
}

/** The fields every *Connection type resolves the same way: edges and pageInfo from any page of rows, totalCount from a ConnectionPage. */
export function connectionResolvers<Row>() {
  return {
    edges: (page: PageOfRows<Row>) => page.rows.map((row) => new Edge(row, page)),
    pageInfo: (page: PageOfRows<Row>) => new PageInfo(page),
    totalCount: (page: ConnectionPage<Row>) => page.totalCount(),
  };
}
