// Rows of the search domain on their way to GraphQL; the mappers in
// codegen.ts tie MessageSearchConnection and MessageSearchEdge to them.
import type { MessageRow } from '../messages/rows.js';
import type { PageOfRows } from '../../graphql/relay/connection.js';

/** A message found: the message (Message resolves from it) and its body as ts_headline marked it (highlight.ts). */
export interface SearchResultRow extends MessageRow {
  headline: string | null;
}

/** A page of search results. */
export type SearchPage = PageOfRows<SearchResultRow>;

/** An edge of a page (what connectionResolvers' edges are). */
export interface SearchEdge {
  readonly node: SearchResultRow;
  readonly cursor: string;
}
