// Internal: what every subscription transport checks before a subscription
// starts, in the order Apollo checks queries, so a subscription over
// WebSocket or HTTP is refused exactly as the same operation over POST
// would be: the allow-list, the nesting and shape limits, validation, the
// operation's kind, NUL characters, variables, the cost, the rate limit.
import { createHash } from 'node:crypto';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.js';
import type { Context } from '../graphql/context.js';
import { ErrorCode, OperationNotSupportedError, QueryTooComplexError } from '../graphql/errors.js';
import { refuseNulCharacters } from '../graphql/nul-characters.js';
import { checkNesting, operationLimitsRule } from '../graphql/operation-limits.js';
import type { AllowList } from '../persisted-queries/allow-list.js';
import type { RateLimiter } from '../rate-limit/limiter.js';
import { refuseCostAbove, type CostEstimator } from './plugins/query-cost.js';

/** A subscribe message's payload (graphql-ws) or an HTTP request's body: the GraphQL over HTTP parameters. */
export interface SubscriptionRequest {
  query?: unknown;
  variables?: unknown;
  operationName?: unknown;
  extensions?: unknown;
}

export interface SubscriptionGateOptions {
  schema: GraphQLSchema;
  config: Pick<Config, 'queryLimits' | 'persistedQueries'>;
  /** PERSISTED_QUERIES=allowlist: the listed operations. */
  allowList: AllowList | undefined;
  /** Undefined when RATE_LIMIT=off. */
  rateLimiter: RateLimiter | undefined;
  estimateCost: CostEstimator;
}

/** A subscription allowed to start: how to run it, and its root field (for metrics); or why not, with the HTTP status an HTTP transport answers. */
export type Admission = { args: ExecutionArgs; field: string } | { errors: GraphQLError[]; status: number };

/** How many documents (parsed and validated) are remembered: subscribers of one app send the same few. */
const DOCUMENT_CACHE_SIZE = 1_000;

const coded = (message: string, code: string) => new GraphQLError(message, { extensions: { code } });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function hashOf(extensions: unknown): string | undefined {
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : undefined;
}

/** Errors a step threw on purpose, as the transport answers them; anything else is a fault, thrown on. */
function refusal(error: unknown, status = 400): { errors: GraphQLError[]; status: number } {
  if (error instanceof GraphQLError) return { errors: [error], status };
  throw error;
}

/** The checks a subscription passes before it runs: one function per server, shared by the WebSocket and HTTP transports. */
export function createSubscriptionGate({ schema, config, allowList, rateLimiter, estimateCost }: SubscriptionGateOptions) {
  const { queryLimits } = config;
  const rules = [operationLimitsRule(queryLimits), ...specifiedRules];
  const documents = new LRUCache<string, { document: DocumentNode } | { errors: readonly GraphQLError[] }>({ max: DOCUMENT_CACHE_SIZE });

  /** The document a request names: its text, or the allow-listed one its hash names. */
  async function sourceOf(request: SubscriptionRequest): Promise<string | GraphQLError> {
    const hash = hashOf(request.extensions);
    if (allowList) {
      const notListed = allowList.refusal({ query: request.query, extensions: request.extensions });
      if (notListed) return notListed;
      if (typeof request.query === 'string' && request.query !== '') return request.query;
      const listed = hash === undefined ? undefined : await allowList.cache.get(`apq:${hash}`);
      return listed ?? coded('Send a GraphQL document in "query".', 'BAD_REQUEST');
    }
    if (typeof request.query === 'string' && request.query !== '') {
      if (hash !== undefined && hash !== sha256(request.query)) return coded('provided sha does not match query', 'BAD_REQUEST');
      return request.query;
    }
    if (hash === undefined) return coded('Send a GraphQL document in "query".', 'BAD_REQUEST');
    // Automatic persisted queries: the client sends the document with its hash on this answer.
    return config.persistedQueries.mode === 'off'
      ? coded('PersistedQueryNotSupported', 'PERSISTED_QUERY_NOT_SUPPORTED')
      : coded('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND');
  }

  /** Parsed and validated once per distinct document. */
  function documentOf(source: string): { document: DocumentNode } | { errors: readonly GraphQLError[] } {
    const known = documents.get(source);
    if (known) return known;
    let checked: { document: DocumentNode } | { errors: readonly GraphQLError[] };
    try {
      // The parser recurses once per bracket: deep nesting is refused before it parses.
      checkNesting(source, queryLimits.maxDepth);
      const document = parse(source, { noLocation: true });
      const errors = validate(schema, document, rules);
      checked = errors.length > 0 ? { errors: errors.map(asValidationError) } : { document };
    } catch (error) {
      if (error instanceof QueryTooComplexError) checked = { errors: [error] };
      else if (error instanceof GraphQLError) checked = { errors: [withCode(error, 'GRAPHQL_PARSE_FAILED')] };
      else throw error;
    }
    documents.set(source, checked);
    return checked;
  }

  return async function admit(request: SubscriptionRequest, context: Context): Promise<Admission> {
    const source = await sourceOf(request);
    if (source instanceof GraphQLError) return refusal(source);
    const checked = documentOf(source);
    if ('errors' in checked) return { errors: [...checked.errors], status: 400 };
    const { document } = checked;
    const operationName = typeof request.operationName === 'string' ? request.operationName : undefined;
    if (request.operationName != null && operationName === undefined) return refusal(coded('"operationName" must be a string.', 'BAD_REQUEST'));
    if (request.variables != null && (typeof request.variables !== 'object' || Array.isArray(request.variables))) {
      return refusal(coded('"variables" must be an object.', 'BAD_REQUEST'));
    }
    const variables = (request.variables ?? {}) as Record<string, unknown>;
    const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, operationName);
    if (!operation) {
      return refusal(
        coded(operationName ? `Unknown operation named "${operationName}".` : 'Name the operation to run (operationName).', 'OPERATION_RESOLUTION_FAILURE'),
      );
    }
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return refusal(new OperationNotSupportedError('Only subscriptions are served here: send queries and mutations to /graphql over HTTP.'));
    }
    try {
      refuseNulCharacters(document, operation, variables);
    } catch (error) {
      return refusal(error);
    }
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
    if (coerced.errors) return { errors: coerced.errors.map((error) => withCode(error, ErrorCode.BadUserInput)), status: 400 };
    const requested = estimateCost(schema, document, variables, operationName);
    context.budget.cost = { requested, limit: queryLimits.maxCost };
    try {
      refuseCostAbove(requested, queryLimits.maxCost);
    } catch (error) {
      return refusal(error);
    }
    if (rateLimiter) {
      const key = context.viewer ? `user:${context.viewer.id}` : `address:${context.clientAddress}`;
      const verdict = await rateLimiter.spend(key, requested, false);
      if (verdict.kind === 'refused') {
        const { retryAfterSeconds } = verdict;
        return refusal(
          new GraphQLError(
            retryAfterSeconds === null
              ? `Rate limit exceeded: this subscription costs ${requested}, more than the budget holds when full. Ask for less.`
              : `Rate limit exceeded: this subscription costs ${requested}. Retry in ${retryAfterSeconds} s.`,
            { extensions: { code: ErrorCode.RateLimited, bucket: verdict.bucket, retryAfterSeconds } },
          ),
          429,
        );
      }
      if (verdict.kind === 'allowed') context.budget.rateLimit = verdict.status;
    }
    const field = operation.selectionSet.selections[0];
    return {
      args: { schema, document, operationName, variableValues: variables, contextValue: context },
      field: field?.kind === Kind.FIELD ? field.name.value : 'unknown',
    };
  };
}

export type SubscriptionGate = ReturnType<typeof createSubscriptionGate>;

/** Our own refusals keep their code; graphql-js's rules get Apollo's. */
function asValidationError(error: GraphQLError): GraphQLError {
  if (error instanceof QueryTooComplexError) return error;
  return error.originalError instanceof QueryTooComplexError ? error.originalError : withCode(error, 'GRAPHQL_VALIDATION_FAILED');
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}
