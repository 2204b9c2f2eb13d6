import { buildSchema, graphqlSync, type GraphQLResolveInfo } from 'graphql';
import { selectsField } from '../../../../src/modules/leaderboards/selects-field.js';

const schema = buildSchema(`
  type Board { entries: [Int!]! viewerEntry: Int other: Board }
  type Query { board: Board }
`);

/** Whether the resolver of Query.board, run on `query`, finds viewerEntry selected. */
function selectsViewerEntry(query: string): boolean {
  let selected: boolean | undefined;
  const result = graphqlSync({
    schema,
    source: query,
    rootValue: {
      board: (_args: unknown, _context: unknown, info: GraphQLResolveInfo) => {
        selected = selectsField(info, 'viewerEntry');
        return { entries: [], viewerEntry: 1, other: null };
      },
    },
  });
  expect(result.errors).toBeUndefined();
  return selected!;
}

describe('selectsField', () => {
  it.each([
    ['directly', '{ board { entries viewerEntry } }'],
    ['under an alias', '{ board { mine: viewerEntry } }'],
    ['in an inline fragment', '{ board { ... on Board { viewerEntry } } }'],
    ['in a fragment spread, nested', '{ board { ...A } } fragment A on Board { ... on Board { ...B } } fragment B on Board { viewerEntry }'],
    ['in one of two selections of the field', '{ board { entries } board { viewerEntry } }'],
  ])('sees a field selected %s', (_case, query) => {
    expect(selectsViewerEntry(query)).toBe(true);
  });

  it.each([
    ['absent', '{ board { entries } }'],
    ['only deeper, on another value', '{ board { entries other { viewerEntry } } }'],
  ])('does not see a field %s', (_case, query) => {
    expect(selectsViewerEntry(query)).toBe(false);
  });
});
