import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault, ApolloServerPluginLandingPageProductionDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { App } from '../app/create-app.js';
import type { Context } from '../graphql/context.js';
import { answerText } from '../graphql/raw-data.js';
import { createCompiledExecutorGateway } from '../graphql/compiled-executor.js';
import { createFormatError, ErrorCode, PersistedQueryNotInListError, QueryTooComplexError } from '../graphql/errors.js';
import { checkNesting, operationLimitsRule } from '../graphql/operation-limits.js';
import type { RequestParameters } from '../persisted-queries/allow-list.js';
import { answerBytes } from './answer-bytes.js';
import { DEFAULT_EXPLORER_PATH, isExplorerInstalled, registerExplorer } from './explorer.js';
import { registerHealthRoutes } from './health.js';
import { registerMetricsRoute } from './metrics-route.js';
import { httpResponseCache } from './response-cache.js';
import { createObservability, wantsSql } from './observability.js';
import { landingPagePlugin } from './plugins/landing-page.js';
import { logUnexpectedErrorsPlugin } from './plugins/log-unexpected-errors.js';
import { queryCostPlugin } from './plugins/query-cost.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { LSN_HEADER, readRoutingPlugin } from './plugins/read-routing.js';
import { refuseNulCharactersPlugin } from './plugins/refuse-nul-characters.js';
import { refuseSubscriptionsPlugin } from './plugins/refuse-subscriptions.js';
import { serviceUnavailablePlugin } from './plugins/service-unavailable.js';
import { registerSubscriptions } from './subscriptions.js';
import { loadersOnDemand } from './subscription-execution.js';

export interface ParleyServer {
  app: App;
  fastify: FastifyInstance;
  apollo: ApolloServer<Context>;
  /** Where the offline explorer is served; undefined in production, and where ruru is not installed. */
  explorerPath: string | undefined;
  /** What the subscription transports hold (open sockets, subscriptions by field) and did (the app's). */
  realtimeActivity: App['realtimeActivity'];
}

/** The GraphQL document of a request's body or query string, when it has one. */
function documentOf(parameters: unknown): string | undefined {
  const query = (parameters as { query?: unknown } | null | undefined)?.query;
  return typeof query === 'string' ? query : undefined;
}

/**
 * The GraphQL parameters of a URL's query string, read as Apollo Server reads
 * them (URLSearchParams; a parameter given twice is none, Apollo refuses it):
 * Fastify's own parser leaves a value with an invalid escape (`%FF`)
 * undecoded, so the checks before Apollo would read another document than
 * the one Apollo runs.
 */
function queryStringParameters(url: string): RequestParameters {
  const start = url.indexOf('?');
  if (start < 0) return {};
  const search = new URLSearchParams(url.slice(start + 1));
  const once = (name: string) => {
    const values = search.getAll(name);
    return values.length === 1 ? values[0] : undefined;
  };
  let extensions: unknown;
  try {
    const text = once('extensions');
    extensions = text === undefined ? undefined : JSON.parse(text);
  } catch {
    // Apollo answers invalid JSON with BAD_REQUEST.
  }
  return { query: once('query'), extensions };
}

/** The GraphQL parameters of a request: its JSON body, or its query string (GET). */
function parametersOf(body: unknown, url: string): RequestParameters {
  const fromBody = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as RequestParameters) : {};
  return fromBody.query !== undefined || fromBody.extensions !== undefined ? fromBody : queryStringParameters(url);
}

/** A header sent once; undefined when absent or repeated. */
const headerValue = (value: string | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/** Requests larger than this are refused before parsing (a GraphQL document plus variables). */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** Serves the app over HTTP: Fastify, Apollo at /graphql, health checks, metrics. Does not listen. */
export async function createServer(app: App): Promise<ParleyServer> {
  const { config, responseCache, rateLimiter, metrics, allowList, auth } = app;
  const production = config.env === 'production';
  const explorerPath = !production && isExplorerInstalled() ? DEFAULT_EXPLORER_PATH : undefined;
  const fastify = Fastify({
    loggerInstance: app.logger,
    // Fastify's two lines per request ("incoming request", "request
    // completed") say less than the one line observability/ writes per
    // GraphQL request, and cost a serialization and a write each: only at debug.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    bodyLimit: BODY_LIMIT_BYTES,
    // A caller's request id is kept, so logs line up across services.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });

  const formatError = createFormatError({ includeStacktrace: config.env === 'development', hideSuggestions: production });

  // The request log, slow logs, /metrics and extensions.sql (observability/).
  const observability = createObservability({
    production,
    logger: fastify.log,
    metrics,
    operationLabels: app.operationLabels,
    slowStatementMs: config.slowLog.statementMs,
    slowOperationMs: config.slowLog.operationMs,
    pretty: app.loggerOutput === 'pretty',
  });
  observability.register(fastify);
  // Hits served before Apollo Server where they can be, inside it otherwise (http/response-cache.ts).
  const cached = responseCache ? httpResponseCache({ cache: responseCache, auth, bypass: wantsSql, served: observability.served }) : undefined;
  const apollo = new ApolloServer<Context>({
    // Execution by operations compiled once (graphql-jit), through Apollo's
    // gateway interface, and first the reads compiled to SQL (SQL_READS),
    // their parts kept in the loader cache when it is on. GRAPHQL_JIT=false
    // keeps graphql-js's interpreter, and the resolvers for every read.
    ...(config.graphqlJit
      ? { gateway: createCompiledExecutorGateway({ schema: app.schema, ...(config.sqlReads ? { sqlReads: app.sqlReads, partsCache: app.sqlReadParts } : {}) }) }
      : { schema: app.schema }),
    // Apollo's own errors (a hook that threw) go to the request log, not the console.
    logger: fastify.log,
    csrfPrevention: true,
    // Apollo's default reads NODE_ENV itself; the configuration decides (off in production).
    introspection: !production,
    // main.ts owns the signals: it stops Apollo (which drains Fastify), then closes the pool.
    stopOnTerminationSignals: false,
    // Stack traces help in development only; formatError strips them from masked errors anyway.
    includeStacktraceInErrorResponses: config.env === 'development',
    // No "Did you mean …?" in production, where introspection is off too:
    // Apollo's option covers validation errors, formatError the rest.
    hideSchemaDetailsFromClientErrors: production,
    formatError,
    persistedQueries: app.persistedQueries,
    // Measures the document before graphql-js's own rules recurse into it: depth, size, aliases, root fields.
    validationRules: [operationLimitsRule(config.queryLimits)],
    // A stored answer's text is reused rather than serialized again, and a
    // compiled read's JSON text (graphql/raw-data.ts) goes out as it is.
    stringifyResult: (value) => (responseCache ? responseCache.stringifyResult(value) : answerText(value)),
    plugins: [
      fastifyApolloDrainPlugin(fastify),
      logUnexpectedErrorsPlugin(),
      serviceUnavailablePlugin(),
      // Before execution, in this order: refusals that need the resolved operation and its variables.
      refuseSubscriptionsPlugin(),
      refuseNulCharactersPlugin(),
      queryCostPlugin({ maximumCost: config.queryLimits.maxCost }),
      // After every refusal above (it spends only on operations that would run), before anything runs.
      ...(rateLimiter ? [rateLimitPlugin({ limiter: rateLimiter })] : []),
      // Read replicas: a mutation's reads on the primary; x-parley-lsn on a write's answer.
      ...(app.replicas ? [readRoutingPlugin({ tellWhere: !production })] : []),
      // After queryCostPlugin: a stored answer keeps the extensions.cost it adds.
      ...(cached ? [cached.plugin] : []),
      // After the cost and the cache: it reads the cost, and adds extensions.sql to no stored answer.
      ...(observability.enabled ? [observability.plugin] : []),
      // Apollo's cache hints are not used (the response cache reads each
      // document's policy from the schema once, see cache/document-policy.ts):
      // without its plugin, Apollo does not wrap every field's resolver.
      ApolloServerPluginCacheControlDisabled(),
      // Outside production: Sandbox, with a link to the explorer served below (Sandbox needs internet, it does not).
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : explorerPath
          ? landingPagePlugin({ explorerPath })
          : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
    ],
  });
  await apollo.start();

  // What Fastify refuses before Apollo sees the request (a body that is not
  // JSON, too large, of a type it cannot read) is answered in GraphQL's
  // shape with Apollo's code for a malformed request, and logged at debug:
  // it is the client's mistake. Anything else is a fault: masked and logged.
  fastify.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      request.log.debug({ err: error }, 'malformed HTTP request');
      return reply.code(status).send({ errors: [{ message: error.message, extensions: { code: 'BAD_REQUEST' } }] });
    }
    request.log.error({ err: error }, 'unexpected error in an HTTP request');
    return reply.code(500).send({ errors: [{ message: 'Internal server error', extensions: { code: ErrorCode.InternalServerError } }] });
  });

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // While draining, responses to requests already in flight close their
  // connection: a keep-alive socket left open would hold the server's close
  // until the drain plugin's timeout.
  let draining = false;
  fastify.addHook('preClose', async () => {
    draining = true;
  });
  fastify.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  // Subscriptions over WebSocket and multipart HTTP, at /graphql (docs/realtime.md).
  const subscriptions = registerSubscriptions({
    fastify,
    config,
    schema: app.schema,
    auth,
    activity: app.realtimeActivity,
    allowList,
    rateLimiter,
    metrics,
    formatError,
    createContext: async ({ authorization, logger, clientAddress }) => {
      const context = await app.createContext({ authorization, logger, clientAddress, observation: null });
      // Read replicas: a subscription reads on the primary. Its feed reads what
      // an event announces (a gap, the replay after a cursor) as soon as the
      // event comes, before a replica has it; one that answered without it
      // would make the feed skip that message for good.
      context.db.routing?.primaryOnly('subscription');
      return loadersOnDemand(context, () => app.createLoaders(context.viewer));
    },
  });
  const graphqlHandler = fastifyApolloHandler(apollo, {
    context: (request) =>
      app.createContext({
        authorization: request.headers.authorization,
        logger: request.log,
        clientAddress: request.ip,
        observation: request.observation,
        after: app.replicas ? headerValue(request.headers[LSN_HEADER]) : undefined,
      }),
  });
  fastify.route<{ Reply: string }>({
    url: '/graphql',
    // Other methods too, so Apollo answers them (405, BAD_REQUEST) rather than a bare 404.
    method: ['GET', 'POST', 'OPTIONS', 'PUT', 'PATCH', 'DELETE'],
    ...observability.routeHooks,
    // Last, after observability's, which reads an error's code from the string.
    onSend: [...(observability.routeHooks.onSend ? [observability.routeHooks.onSend] : []), answerBytes],
    ...(cached ? { preHandler: cached.preHandler } : {}),
    handler(request, reply) {
      // The parser recurses once per nested bracket: a document nested too
      // deep is refused before Apollo parses it (nothing of Apollo's runs
      // between reading the document and parsing it that could answer).
      const refuse = (error: QueryTooComplexError | PersistedQueryNotInListError) => {
        const { http: _http, ...extensions } = error.extensions;
        reply
          .code(400)
          .type('application/json')
          .send(JSON.stringify({ errors: [formatError({ message: error.message, extensions }, error)] }));
      };
      const parameters = parametersOf(request.body, request.url);
      const source = documentOf(parameters);
      if (source !== undefined) {
        try {
          checkNesting(source, config.queryLimits.maxDepth);
        } catch (error) {
          if (!(error instanceof QueryTooComplexError)) throw error;
          return refuse(error);
        }
      }
      const notListed = allowList?.refusal(parameters);
      if (notListed) {
        request.log.debug({ code: notListed.extensions.code }, 'operation outside the allow-list');
        return refuse(notListed);
      }
      const run = () => graphqlHandler.call(this, request, reply);
      // A multipart subscription is streamed from here; anything else that asked for one, Apollo answers.
      if (subscriptions.http.wants(request)) return subscriptions.http.handle(request, reply).then((handled) => (handled ? undefined : run()));
      return run();
    },
  });

  if (explorerPath) await registerExplorer(fastify, { path: explorerPath, endpoint: '/graphql' });

  registerHealthRoutes(fastify, { db: app.db.pool, migrations: app.migrations, checkRedis: app.checkRedis });
  if (metrics) registerMetricsRoute(fastify, { registry: metrics.registry, token: config.metrics.token });

  return { app, fastify, apollo, explorerPath, realtimeActivity: app.realtimeActivity };
}
