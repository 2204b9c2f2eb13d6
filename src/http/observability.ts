import type { ApolloServerPlugin } from '@apollo/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, onResponseHookHandler, onSendHookHandler } from 'fastify';
import type { Context } from '../graphql/context.js';
import type { Viewer } from '../graphql/viewer.js';
import type { ParleyMetrics, RequestMeasure } from '../observability/metrics.js';
import { NO_OPERATION, type OperationLabels } from '../observability/operation-labels.js';
import { RequestObservation, roundMs, type SqlStatement } from '../observability/request-observation.js';
import { shortenStatement } from '../observability/statements.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** A GraphQL request's observation (see observability/); null on other routes, and where nothing observes. */
    observation: RequestObservation | null;
  }
}

/** The request header that asks for `extensions.sql`, outside production: `x-parley-sql: 1`. */
export const SQL_HEADER = 'x-parley-sql';

/** What `extensions.sql` holds. */
export interface SqlExtension {
  count: number;
  /** The statements' durations added up (batches run side by side, so this can exceed the request's time). */
  durationMs: number;
  statements: SqlStatement[];
}

export interface ObservabilityOptions {
  /** In production the SQL header is ignored. */
  production: boolean;
  /** The server's logger, for the level it starts at. */
  logger: FastifyBaseLogger;
  /** Undefined when METRICS=off. */
  metrics: ParleyMetrics | undefined;
  operationLabels: OperationLabels;
  /** SLOW_STATEMENT_MS; 0: off. */
  slowStatementMs: number;
  /** SLOW_OPERATION_MS; 0: off. */
  slowOperationMs: number;
  /** A developer's terminal (pino-pretty): the request line's message says it all, and its fields are hidden. */
  pretty: boolean;
}

export interface Observability {
  /** Declares the request's `observation` (Fastify wants request properties declared before the first request). */
  register(fastify: FastifyInstance): void;
  /**
   * False when nothing would read an observation (metrics off, the log above
   * info, the slow logs off, production): then no hook runs and requests
   * get the plain pool, as if none of this existed. Decided at start.
   */
  enabled: boolean;
  /** The /graphql route's hooks (empty when not enabled). */
  routeHooks: { onRequest?: onRequestHookHandler; onSend?: onSendHookHandler<unknown>; onResponse?: onResponseHookHandler };
  /** Operation, viewer, cost, errors and `extensions.sql`, from inside Apollo Server. */
  plugin: ApolloServerPlugin<Context>;
  // The three below are functions, not methods: the response cache is handed them alone.
  /** Whether the request asked for `extensions.sql` (and may have it): the response cache must neither serve nor store it. */
  wantsSql: (request: FastifyRequest) => boolean;
  wantsSqlOf: (context: Context) => boolean;
  /** A stored answer was served before Apollo Server: its operation's name, and the viewer when its token was read. */
  served: (request: FastifyRequest, operationName: string | null, viewer: Viewer | null | undefined) => void;
}

const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const levelEnabled = (log: FastifyBaseLogger, level: 'info' | 'warn') => (LEVELS[log.level] ?? Infinity) <= LEVELS[level]!;

/** The first error's code of a JSON answer with errors (one refused before Apollo Server, or by it over HTTP). */
function errorCodeOf(payload: string): string | undefined {
  try {
    const code = (JSON.parse(payload) as { errors?: { extensions?: { code?: unknown } }[] }).errors?.[0]?.extensions?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

const CACHE_OUTCOMES: Record<string, RequestMeasure['cache']> = { HIT: 'hit', MISS: 'miss', BYPASS: 'bypass' };

/** Longer names are cut in log lines (a name is as long as its client makes it). */
const NAME_LENGTH = 100;

/**
 * The request log, the slow logs, the request metrics and `extensions.sql`:
 * one observation per GraphQL request, made in the route's onRequest hook,
 * filled in by Apollo Server's plugin and by the statements the request
 * sends (context.ts gives its loaders and writer a pool that records into
 * it), and closed in onResponse, once the answer is sent: one log line,
 * a few metric updates.
 */
export function createObservability(options: ObservabilityOptions): Observability {
  const { production, metrics, operationLabels, slowStatementMs, slowOperationMs, pretty } = options;
  const slowLogs = slowStatementMs > 0 || slowOperationMs > 0;
  const enabled = !production || metrics !== undefined || levelEnabled(options.logger, 'info') || (slowLogs && levelEnabled(options.logger, 'warn'));
  const settings = { metrics, slowStatementMs };

  const asksForSql = (request: FastifyRequest) => {
    if (production) return false;
    const value = request.headers[SQL_HEADER];
    return value === '1' || value === 'true';
  };

  const finish = (request: FastifyRequest, reply: FastifyReply) => {
    const observation = request.observation;
    if (!observation) return;
    const ms = reply.elapsedTime;
    const status = reply.statusCode;
    const cacheHeader = reply.getHeader('x-cache');
    const cache = typeof cacheHeader === 'string' ? cacheHeader : undefined;
    const code = observation.errorCode ?? (status >= 400 ? `HTTP_${status}` : undefined);
    const outcome = code === undefined ? 'success' : 'error';
    metrics?.request({
      operation: observation.resolved ? operationLabels.of(observation.operationName) : NO_OPERATION,
      outcome,
      code: code ?? '',
      seconds: ms / 1000,
      cache: cache === undefined ? undefined : CACHE_OUTCOMES[cache],
    });

    const slow = slowOperationMs > 0 && ms >= slowOperationMs;
    const log = request.log;
    if (!levelEnabled(log, slow ? 'warn' : 'info')) return;
    const operationName = observation.resolved ? (observation.operationName?.slice(0, NAME_LENGTH) ?? null) : undefined;
    const graphql = {
      operationName,
      viewerId: observation.viewerId,
      status,
      durationMs: roundMs(ms),
      sqlStatements: observation.statements,
      sqlMs: roundMs(observation.sqlMs),
      cache,
      cost: observation.cost,
      outcome,
      code,
    };
    const { slowest } = observation;
    const fields =
      slow && slowest
        ? { graphql, slowestStatement: { statement: shortenStatement(slowest.text), durationMs: roundMs(slowest.durationMs), loader: slowest.loader } }
        : { graphql };
    const message = pretty ? summary(graphql, slow) : slow ? 'slow GraphQL operation' : 'GraphQL request';
    if (slow) log.warn(fields, message);
    else log.info(fields, message);
  };

  const onRequest: onRequestHookHandler = (request, _reply, done) => {
    request.observation = new RequestObservation(settings, request.log, asksForSql(request));
    done();
  };
  const onSend: onSendHookHandler<unknown> = (request, reply, payload, done) => {
    const observation = request.observation;
    // Answers refused before Apollo Server (or by it over HTTP): their code is in the body.
    if (observation && observation.errorCode === undefined && reply.statusCode >= 400 && typeof payload === 'string') {
      observation.errorCode = errorCodeOf(payload);
    }
    done(null, payload);
  };
  const onResponse: onResponseHookHandler = (request, reply, done) => {
    finish(request, reply);
    done();
  };

  const plugin: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      const observation = contextValue.observation;
      if (!observation) return;
      if (contextValue.viewer) observation.viewerId = contextValue.viewer.id;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (!operation) return;
          observation.resolved = true;
          observation.operationName = operationName;
        },
        async willSendResponse({ response }) {
          const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
          if (result.errors?.length) {
            const code = result.errors[0]!.extensions?.code;
            observation.errorCode = typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
          }
          observation.cost = contextValue.budget.cost?.requested;
          if (observation.sql) {
            const sql: SqlExtension = { count: observation.statements, durationMs: roundMs(observation.sqlMs), statements: observation.sql };
            result.extensions = { ...result.extensions, sql };
          }
        },
      };
    },
  };

  return {
    register(fastify) {
      fastify.decorateRequest('observation', null);
    },
    enabled,
    routeHooks: enabled ? { onRequest, onSend, onResponse } : {},
    plugin,
    wantsSql: (request) => request.observation?.sql !== undefined,
    wantsSqlOf: (context) => context.observation?.sql !== undefined,
    served(request, operationName, viewer) {
      const observation = request.observation;
      if (!observation) return;
      observation.resolved = true;
      observation.operationName = operationName;
      if (viewer) observation.viewerId = viewer.id;
    },
  };
}

/** The request line for a developer's terminal: everything on one line. */
function summary(
  line: {
    operationName: string | null | undefined;
    viewerId?: number;
    status: number;
    durationMs: number;
    sqlStatements: number;
    sqlMs: number;
    cache?: string;
    cost?: number;
    code?: string;
  },
  slow: boolean,
): string {
  const name = line.operationName === undefined ? '(no operation)' : (line.operationName ?? '(anonymous)');
  const parts = [`${slow ? 'SLOW ' : ''}${name} ${line.status} in ${line.durationMs} ms`, `${line.sqlStatements} SQL in ${line.sqlMs} ms`];
  if (line.cache) parts.push(line.cache);
  if (line.cost !== undefined) parts.push(`cost ${line.cost}`);
  if (line.viewerId !== undefined) parts.push(`viewer ${line.viewerId}`);
  if (line.code) parts.push(line.code);
  return parts.join(' · ');
}
