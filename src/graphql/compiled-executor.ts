import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import {
  BREAK,
  execute,
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  visit,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import type { Context } from './context.js';
import { FALLBACK_MARK, type CompiledRead, type SqlReads } from './sql-reads/compile.js';
import { rawData } from './raw-data.js';
import { assemble, type PartsCache } from './sql-reads/parts.js';

/** Apollo's gateway interface, named through @apollo/server's own types. */
type Gateway = ApolloServerOptionsWithGateway<object>['gateway'];
type Executor = NonNullable<Awaited<ReturnType<Gateway['load']>>['executor']>;

/** The mark of an operation left to graphql-js. */
const INTERPRETED = Symbol('interpreted by graphql-js');

export interface CompiledExecutorOptions {
  schema: GraphQLSchema;
  /** Queries answered by one statement building their JSON, tried before graphql-jit (sql-reads/). Default: none. */
  sqlReads?: SqlReads;
  /** Where their parts are kept across requests (sql-reads/parts.ts): with it, a read after a write reads only the parts it changed. Default: none, every read whole. */
  partsCache?: PartsCache;
  /** Compiled operations kept, the least recently used dropped first. Default: 500. */
  maxCompiledOperations?: number;
}

/**
 * Executes operations with graphql-jit instead of graphql-js: each operation
 * (document and operation name) is compiled once into a function that
 * resolves its fields without re-reading the document, and kept in a bounded
 * LRU, so clients sending ever new documents cannot grow memory without end.
 * graphql-js re-walks the document and wraps fields in promises on every
 * request: on the reference inbox (`npm run bench`) compiled execution
 * halved the server's CPU per request.
 *
 * It plugs into Apollo Server through the gateway interface (`gateway`
 * instead of `schema`), Apollo's supported way to replace execution:
 * parsing, validation, every plugin (cost limit, error logging, outages),
 * formatError's masking and the HTTP handling stay Apollo's. What Apollo
 * executes itself and this does not: incremental delivery (`@defer`), which
 * Parley does not offer. Mutations, and queries graphql-jit would answer
 * differently, run on graphql-js as before (see compilable). One difference
 * stays: where two sibling fields fail and null the same parent, graphql-js
 * reports the first to fail and drops the other's error; graphql-jit reports
 * both.
 *
 * Before either, with `sqlReads`: a query the domains' tables cover is
 * answered by one SQL statement that writes its JSON (sql-reads/), its
 * parts kept in `partsCache` when there is one; whatever that does not
 * answer goes on as above.
 */
export function createCompiledExecutorGateway({
  schema,
  sqlReads,
  partsCache,
  maxCompiledOperations = 500,
}: CompiledExecutorOptions): Gateway & { /** How many compiled operations are kept now. */ compiledOperations(): number } {
  // An operation graphql-js runs instead is remembered as such, not re-examined.
  const compiled = new LRUCache<string, CompiledQuery | typeof INTERPRETED>({ max: maxCompiledOperations });
  const executor: Executor = async ({ document, operation: definition, queryHash, request, context }) => {
    // The name the client asked for, as Apollo passes graphql-js (not the one it resolved).
    const { operationName } = request;
    // queryHash is Apollo's sha256 of the document's text.
    const key = `${queryHash}\n${operationName ?? ''}`;
    let operation = compiled.get(key);
    if (!operation) {
      // No operation to run (two and no name, or a name the document lacks):
      // graphql-js's error, which Apollo answers OPERATION_RESOLUTION_FAILURE.
      if (!definition) return execute({ schema, document, contextValue: context, variableValues: request.variables, operationName });
      if (!compilable(definition)) {
        operation = INTERPRETED;
      } else {
        const result = compileQuery(schema, document, operationName ?? undefined);
        // Not compilable (an operation the document lacks): graphql-js's own errors.
        if (!isCompiledQuery(result)) return result as ExecutionResult;
        operation = result;
      }
      compiled.set(key, operation);
    }
    const interpret = () => execute({ schema, document, contextValue: context, variableValues: request.variables, operationName });
    // The operation of the document run, which is not always the one Apollo
    // resolved: the response cache runs a copy carrying the ids its tags are read from.
    const compiledOperation = sqlReads && getOperationAST(document, operationName);
    if (compiledOperation) {
      const read = sqlReads.compile(document, compiledOperation, request.variables, (context as Context).viewer?.id, { parts: partsCache !== undefined });
      if (read) {
        const answered = await answerRead(context as Context, read, partsCache);
        if (answered) return answered;
      }
    }
    if (operation === INTERPRETED) return interpret();
    const result = await operation.query(undefined, context, request.variables ?? {});
    if (!result.errors) return result;
    // No data at all: the variables did not coerce, and nothing ran. graphql-js
    // says so in its own words, which Apollo recognizes as BAD_USER_INPUT
    // (HTTP 400); jit's differ. It refuses them before any resolver, too.
    if (result.data === undefined) return interpret();
    return { ...result, errors: result.errors.map(asGraphQLJsError) };
  };
  return {
    async load() {
      return { executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {
      compiled.clear();
    },
    compiledOperations: () => compiled.size,
  };
}

/** The name a compiled read's statement is recorded under, where loaders' are recorded under theirs. */
export const COMPILED_READ = 'compiledRead';

/**
 * A compiled read's answer: its one statement's JSON, as raw data. Undefined
 * when the statement failed: the resolvers then answer (and, where the
 * database is at fault, fail) as they would have, with their errors' paths
 * and codes.
 */
async function answerRead(context: Context, read: CompiledRead, partsCache: PartsCache | undefined): Promise<ExecutionResult | undefined> {
  const viewerId = context.viewer!.id;
  let text: string | undefined;
  try {
    const cache = read.parts && partsCache ? partsCache.forRequest({ routing: context.db.routing }) : undefined;
    await cache?.prepare();
    const main = (await named(context, () => context.db.pool.query<{ data: string }>(read))).rows[0]!.data;
    const { parts } = read;
    text =
      parts && cache
        ? await assemble(main, parts, viewerId, cache, async (ids) => {
            const { rows } = await named(context, () =>
              context.db.pool.query<{ id: string; json: string }>({ text: parts.text, values: [ids, ...parts.values] }),
            );
            return rows;
          })
        : main;
  } catch (error) {
    // The database out of reach: the resolvers fail the same way, and the
    // outage is logged once, for the request (plugins/service-unavailable.ts).
    // Anything else is a defect of the compiled statement: said, and answered all the same.
    if (!isDatabaseUnavailable(error)) context.logger.warn({ err: error }, 'compiled read failed; the resolvers answer instead');
    return undefined;
  }
  // Not found, or not the viewer's: the resolvers' error (NOT_FOUND).
  if (text === undefined || (read.mayFallBack && text.includes(FALLBACK_MARK))) return undefined;
  // The response cache reads the ids it added, and removes them: objects for it.
  return { data: read.reservedKeys ? (JSON.parse(text) as Record<string, unknown>) : rawData(text) };
}

/** Sends a compiled read's statement, named as a loader's is (the request log, the metrics, extensions.sql). */
function named<Result>(context: Context, send: () => Promise<Result>): Promise<Result> {
  const recorder = context.observation;
  const outer = recorder?.loader ?? null;
  if (recorder) recorder.loader = COMPILED_READ;
  try {
    return send();
  } finally {
    if (recorder) recorder.loader = outer;
  }
}

/**
 * graphql-jit's errors imitate graphql-js's but leave `extensions` undefined
 * where the thrown error had none (a database error): Apollo reads
 * `extensions.code` of every error and, failing, answers a bare masked error
 * without path, and the outage plugin never sees the database's error. The
 * same error as graphql-js would have made it: path, cause, extensions, and
 * the locations jit computed.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const normalized = new GraphQLError(error.message, { path: error.path, originalError: error.originalError, extensions: error.extensions });
  (normalized as { locations: GraphQLError['locations'] }).locations = error.locations;
  return normalized;
}

/**
 * Whether graphql-jit answers the operation as graphql-js would. Mutations
 * are left to graphql-js: their time goes to the transaction, not to
 * execution. And graphql-jit departs from the spec where an input object
 * literal names a variable the request leaves out (`input: { avatarUrl:
 * $avatarUrl }` without $avatarUrl): it passes the field as null where
 * graphql-js leaves it absent, so "left out keeps it" would become "remove it".
 */
function compilable(operation: OperationDefinitionNode): boolean {
  if (operation.operation !== OperationTypeNode.QUERY) return false;
  let variableInInputObject = false;
  visit(operation, {
    ObjectValue(node) {
      visit(node, {
        Variable() {
          variableInInputObject = true;
          return BREAK;
        },
      });
      return variableInInputObject ? BREAK : undefined;
    },
  });
  return !variableInInputObject;
}
