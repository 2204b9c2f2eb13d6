import type { ApolloServerPlugin } from '@apollo/server';
import { getVariableValues, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from '../../graphql/relay/page-arguments.js';
import type { Context } from '../../graphql/context.js';
import type { OperationCost } from '../../graphql/operation-budget.js';
import { QueryTooComplexError } from '../../graphql/errors.js';

export interface QueryCostOptions {
  /** The largest estimated cost an operation may have. */
  maximumCost: number;
  /** How many items a list without page arguments (participants) is counted as. Default: 10. */
  listSize?: number;
}

/** Estimates an operation's cost as the plugin does (its variables already coerce); for transports outside Apollo (subscriptions). */
export type CostEstimator = (
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  operationName: string | null | undefined,
) => number;

/** The estimator of queryCostPlugin, for a list without page arguments counted as `listSize` items. */
export function createCostEstimator(listSize = 10): CostEstimator {
  const pagedList: ComplexityEstimator = ({ type, args, field, childComplexity }) => {
    // Introspection is not counted: its answer is the schema, whose size does
    // not grow with the data, and production refuses it outright. Counted
    // like data (10 per list), the query every explorer sends to learn the
    // schema costs 51,833 and was refused.
    if (field.name === '__schema' || field.name === '__type') return 0;
    if (field.args.some((argument) => argument.name === 'first' || argument.name === 'last')) {
      const rows = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
      return 1 + Math.max(rows, 1) * childComplexity;
    }
    // A connection's edges were counted by its page size already.
    if (type.name.endsWith('Connection')) return undefined;
    if (String(field.type).startsWith('[')) return 1 + listSize * childComplexity;
    return undefined;
  };
  const estimators = [pagedList, simpleEstimator({ defaultComplexity: 1 })];
  // Costs estimated already, by document (Apollo hands every request of one
  // query text the same parsed document) and then by operation and
  // variables: the estimate walks the whole document with graphql's
  // TypeInfo, some 5 % of the CPU of an Inbox read from the loader cache.
  const estimated = new WeakMap<DocumentNode, Map<string, number>>();

  return (schema, document, variables, operationName) => {
    let costs = estimated.get(document);
    if (!costs) estimated.set(document, (costs = new Map<string, number>()));
    const key = `${operationName ?? ''}\n${JSON.stringify(variables)}`;
    let cost = costs.get(key);
    if (cost === undefined) {
      cost = getComplexity({
        schema,
        query: document,
        variables,
        operationName: operationName ?? undefined,
        estimators,
        // The library's own limit (10,000) throws an uncoded error; operationLimitsPlugin's
        // MAX_QUERY_NODES has bounded the document before this runs.
        maxQueryNodes: Infinity,
      });
      // Bounded: a document sent with ever new variables keeps its latest few, and long ones (a message's body) are not kept.
      if (key.length <= MAX_KEPT_KEY_LENGTH) {
        if (costs.size >= COSTS_KEPT_PER_DOCUMENT) costs.clear();
        costs.set(key, cost);
      }
    }
    return cost;
  };
}

/** Estimates kept per document, each for one operation name and set of variables (as JSON, at most MAX_KEPT_KEY_LENGTH long). */
const COSTS_KEPT_PER_DOCUMENT = 32;
const MAX_KEPT_KEY_LENGTH = 1024;

/** QUERY_TOO_COMPLEX for a cost over the maximum. */
export function refuseCostAbove(requested: number, maximumCost: number): void {
  if (requested <= maximumCost) return;
  throw new QueryTooComplexError(
    `This operation could cost ${requested}, over the limit of ${maximumCost}: ask for smaller pages (first/last) or fewer nested lists.`,
    'cost',
    requested,
    maximumCost,
  );
}

/**
 * Refuses, before anything runs, operations that could return too much: each
 * field costs 1, and a list multiplies what it selects by the rows it may
 * return (`first` or `last`, 20 when neither is given). Nested lists multiply,
 * so `conversations(first: 100) { messages(first: 100) }` costs ~10,000 times
 * its message fields, and a deep Message → conversation → messages chain is
 * refused however small each page looks. Introspection costs nothing here
 * (explorers need it; production turns it off).
 *
 * An empty page (`first: 0`) still counts its fields once: a connection's
 * own fields (`viewerEntry`, `refreshedAt`, `totalCount`) run SQL whatever
 * the page size, so every field that can reach the database costs at least 1.
 *
 * The cost is answered in `extensions.cost` ({ requested, limit }) of every
 * response to an operation that passed validation (where the other limits
 * are checked) and whose variables are valid. Variables that do not
 * coerce are left to graphql-js, which refuses them before any resolver runs
 * (BAD_USER_INPUT, HTTP 400): graphql-query-complexity coerces them too, but
 * throws an uncoded error.
 *
 * The cost is also left in the context (`budget.cost`), where the rate
 * limit spends it: it is computed once per operation.
 */
export function queryCostPlugin({ maximumCost, listSize = 10 }: QueryCostOptions): ApolloServerPlugin<Context> {
  const estimate = createCostEstimator(listSize);

  return {
    async requestDidStart() {
      let cost: OperationCost | undefined;
      return {
        async didResolveOperation({ request, document, schema, operation, contextValue }) {
          // No operation (none named so): execution says so, with its code.
          if (!operation) return;
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 1 });
          if (coerced.errors) return;
          const requested = estimate(schema, document, request.variables ?? {}, request.operationName);
          cost = { requested, limit: maximumCost };
          contextValue.budget.cost = cost;
          refuseCostAbove(requested, maximumCost);
        },
        async willSendResponse({ response }) {
          if (!cost) return;
          const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          result.extensions = { ...result.extensions, cost };
        },
      };
    },
  };
}
