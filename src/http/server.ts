import { randomUUID } from 'node:crypto';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config.js';
import { withStatementCounter, type StatementCounter } from '../db/statement-counter.js';
import { clearLoaders, createLoaders } from '../modules/loaders.js';
import type { Auth } from '../graphql/auth.js';
import { createRequestContext, type Context, type Db } from '../graphql/context.js';
import { createFormatError } from '../graphql/errors.js';
import { logUnexpectedErrorsPlugin } from './plugins/log-unexpected-errors.js';
import { queryCostPlugin } from './plugins/query-cost.js';
import { serviceUnavailablePlugin } from './plugins/service-unavailable.js';

export interface ServerDependencies {
  config: Config;
  schema: GraphQLSchema;
  db: Db;
  auth: Auth;
  /** Where the log goes. Default: standard output. */
  logStream?: NodeJS.WritableStream;
}

export interface ParleyServer {
  fastify: FastifyInstance;
  apollo: ApolloServer<Context>;
}

declare module 'fastify' {
  interface FastifyRequest {
    sqlCounter: StatementCounter;
  }
}

/**
 * JSON lines for machines (production, pipes, tests); readable lines for a
 * developer watching `npm run dev` in a terminal.
 */
function loggerOutput(config: Config, logStream: NodeJS.WritableStream | undefined) {
  if (logStream) return { stream: logStream };
  if (config.env === 'development' && process.stdout.isTTY) {
    return { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } };
  }
  return {};
}

/** Requests larger than this are refused before parsing (a GraphQL document plus variables). */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** Assembles the HTTP server: Fastify, Apollo at /graphql, health checks. Does not listen. */
export async function createServer({ config, schema, db, auth, logStream }: ServerDependencies): Promise<ParleyServer> {
  const production = config.env === 'production';
  const fastify = Fastify({
    logger: { level: config.logLevel, ...loggerOutput(config, logStream) },
    bodyLimit: BODY_LIMIT_BYTES,
    // A caller's request id is kept, so logs line up across services.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });

  const apollo = new ApolloServer<Context>({
    schema,
    csrfPrevention: true,
    // main.ts owns the signals: it stops Apollo (which drains Fastify), then closes the pool.
    stopOnTerminationSignals: false,
    // Stack traces help in development only; formatError strips them from masked errors anyway.
    includeStacktraceInErrorResponses: config.env === 'development',
    formatError: createFormatError({ includeStacktrace: config.env === 'development' }),
    plugins: [
      fastifyApolloDrainPlugin(fastify),
      logUnexpectedErrorsPlugin(),
      serviceUnavailablePlugin(),
      queryCostPlugin({ maximumCost: config.maxQueryCost }),
      // Cache hints are not used (the response cache keys by entity tags):
      // without the plugin, Apollo does not wrap every field's resolver.
      ApolloServerPluginCacheControlDisabled(),
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ embed: true, footer: false }),
    ],
  });
  await apollo.start();

  fastify.addHook('onRequest', async (request, reply) => {
    request.sqlCounter = { count: 0 };
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
  if (!production) {
    // Lets a developer (and the tests) see a request's statement count.
    fastify.addHook('onSend', async (request, reply) => {
      if (request.sqlCounter) reply.header('x-sql-statements', String(request.sqlCounter.count));
    });
  }

  const contextDependencies = { db, auth, createLoaders, clearLoaders, batch: config.dataloaderBatch };
  const graphqlHandler = fastifyApolloHandler(apollo, {
    context: (request) =>
      createRequestContext(contextDependencies, { authorization: request.headers.authorization, logger: request.log, sql: request.sqlCounter }),
  });
  fastify.route<{ Reply: string }>({
    url: '/graphql',
    method: ['GET', 'POST', 'OPTIONS'],
    handler(request, reply) {
      return withStatementCounter(request.sqlCounter, () => graphqlHandler.call(this, request, reply));
    },
  });

  fastify.get('/health', async () => ({ status: 'ok' }));
  fastify.get('/ready', async (_request, reply) => {
    try {
      await db.pool.query('SELECT 1');
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'database unavailable' });
    }
  });

  return { fastify, apollo };
}
