import type { FastifyInstance } from 'fastify';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Config } from '../config.js';
import type { Auth } from '../graphql/auth.js';
import type { Context } from '../graphql/context.js';
import type { ParleyMetrics } from '../observability/metrics.js';
import type { AllowList } from '../persisted-queries/allow-list.js';
import type { RateLimiter } from '../rate-limit/limiter.js';
import type { RealtimeActivity } from '../realtime/activity.js';
import { createCostEstimator } from './plugins/query-cost.js';
import { createSubscriptionGate } from './subscription-operation.js';
import { createHttpSubscriptions, type HttpSubscriptions } from './subscriptions-http.js';
import { registerWebSocketSubscriptions } from './subscriptions-ws.js';

export interface SubscriptionsOptions {
  fastify: FastifyInstance;
  config: Config;
  schema: GraphQLSchema;
  auth: Auth;
  activity: RealtimeActivity;
  allowList: AllowList | undefined;
  rateLimiter: RateLimiter | undefined;
  metrics: ParleyMetrics | undefined;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** A fresh context for one subscription, as for one request. */
  createContext: (input: { authorization: string | undefined; logger: FastifyInstance['log']; clientAddress: string }) => Promise<Context>;
}

/**
 * Subscriptions on the API's port at /graphql, over both transports
 * (docs/realtime.md): WebSocket upgrades are taken from the HTTP server,
 * multipart requests are served by `http.handle` from the /graphql route;
 * both admitted by the same checks. On close (SIGTERM), every socket and
 * stream ends with "going away" before the server stops.
 */
export function registerSubscriptions(options: SubscriptionsOptions): { http: HttpSubscriptions } {
  const { fastify, config, activity, auth, formatError } = options;
  const admit = createSubscriptionGate({
    schema: options.schema,
    config,
    allowList: options.allowList,
    rateLimiter: options.rateLimiter,
    estimateCost: createCostEstimator(),
  });
  const observeLatency = options.metrics ? (field: string, seconds: number) => options.metrics!.commitToSend(field, seconds) : undefined;
  const shared = { auth, limits: config.realtime, activity, admit, formatError, observeLatency };
  const websocket = registerWebSocketSubscriptions({
    ...shared,
    server: fastify.server,
    path: '/graphql',
    logger: fastify.log.child({ transport: 'websocket' }),
    createContext: options.createContext,
  });
  const http = createHttpSubscriptions({ ...shared, logger: fastify.log, createContext: options.createContext });
  fastify.addHook('preClose', async () => {
    await Promise.all([websocket.close('goingAway'), http.close('goingAway')]);
  });
  return { http };
}
