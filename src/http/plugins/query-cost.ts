import type { ApolloServerPlugin } from '@apollo/server';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../../modules/relay/page-arguments.js';
import type { Context } from '../../graphql/context.js';
import { QueryTooComplexError } from '../../graphql/errors.js';

export interface QueryCostOptions {
  /** The largest estimated cost an operation may have. */
  maximumCost: number;
  /** How many items a list without page arguments (participants) is counted as. Default: 10. */
  listSize?: number;
}

/**
 * Refuses, before anything runs, operations that could return too much: each
 * field costs 1, and a list multiplies what it selects by the rows it may
 * return (`first` or `last`, 20 when neither is given). Nested lists multiply,
 * so `conversations(first: 100) { messages(first: 100) }` costs ~10,000 times
 * its message fields, and a deep Message → conversation → messages chain is
 * refused however small each page looks.
 */
export function queryCostPlugin({ maximumCost, listSize = 10 }: QueryCostOptions): ApolloServerPlugin<Context> {
  const pagedList: ComplexityEstimator = ({ type, args, field, childComplexity }) => {
    if (field.args.some((argument) => argument.name === 'first' || argument.name === 'last')) {
      const rows = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
      return 1 + Math.max(rows, 0) * childComplexity;
    }
    // A connection's edges were counted by its page size already.
    if (type.name.endsWith('Connection')) return undefined;
    if (String(field.type).startsWith('[')) return 1 + listSize * childComplexity;
    return undefined;
  };
  const estimators = [pagedList, simpleEstimator({ defaultComplexity: 1 })];

  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          const cost = getComplexity({ schema, query: document, variables: request.variables ?? {}, operationName: request.operationName, estimators });
          if (cost > maximumCost) throw new QueryTooComplexError(cost, maximumCost);
        },
      };
    },
  };
}
