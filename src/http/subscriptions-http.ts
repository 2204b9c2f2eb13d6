import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { RealtimeLimits } from '../config.js';
import type { Auth } from '../graphql/auth.js';
import type { Context } from '../graphql/context.js';
import { ErrorCode } from '../graphql/errors.js';
import type { RealtimeActivity } from '../realtime/activity.js';
import { CLOSES, type CloseReason } from '../realtime/closes.js';
import { bufferVerdict, countDelivery, executeSubscription, type DeliveryHooks } from './subscription-execution.js';
import type { SubscriptionGate } from './subscription-operation.js';
import type { SubscriptionTransport } from './subscriptions-ws.js';

export interface HttpSubscriptionsOptions {
  logger: FastifyBaseLogger;
  auth: Auth;
  limits: RealtimeLimits;
  activity: RealtimeActivity;
  admit: SubscriptionGate;
  createContext: (input: { authorization: string | undefined; logger: FastifyBaseLogger; clientAddress: string }) => Promise<Context>;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  observeLatency?: (field: string, seconds: number) => void;
}

export interface HttpSubscriptions extends SubscriptionTransport {
  /** Whether a request asks for a multipart subscription (then `handle` serves it, or says it is not one). */
  wants(request: FastifyRequest): boolean;
  /**
   * Serves a POST /graphql that asks for a multipart subscription (`Accept:
   * multipart/mixed;subscriptionSpec=1.0`): true once answered; false when
   * it is not one (a query, a mutation), which Apollo then answers.
   */
  handle(request: FastifyRequest, reply: FastifyReply): Promise<boolean>;
}

const BOUNDARY = 'graphql';
const CONTENT_TYPE = `multipart/mixed; boundary="${BOUNDARY}"; subscriptionSpec="1.0"`;
/** An empty part this often, so proxies and clients see the stream is alive (Apollo Router's interval). */
const HEARTBEAT_MS = 5_000;
/** After the last part of a stream the client stopped reading, how long before the connection is cut. */
const CLOSE_GRACE_MS = 2_000;

/** One part of the multipart body: its headers, a blank line, the JSON, and the boundary that closes it. */
const part = (json: string) => `\r\ncontent-type: application/json; charset=utf-8\r\n\r\n${json}\r\n--${BOUNDARY}`;

/** Whether a request asks for a subscription over multipart HTTP (Apollo Client 4, urql and Apollo Router speak it). */
function wantsMultipartSubscription(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  // JSON only: a simple request (text/plain, a form) is what CSRF prevention refuses; Apollo answers it so.
  const json = /^application\/json\b/i.test(request.headers['content-type'] ?? '');
  return request.method === 'POST' && json && /multipart\/mixed/i.test(accept) && /subscriptionSpec\s*=\s*"?1\.0/i.test(accept);
}

/**
 * GraphQL subscriptions over HTTP: Apollo's multipart subscription protocol
 * (`multipart/mixed; subscriptionSpec="1.0"`), which Apollo Client 4 speaks
 * with its plain HttpLink and urql with its fetch exchange, through any
 * proxy that passes a streamed response. One subscription per request.
 * Each event is a part `{"payload": <result>}`; an empty part `{}` is a
 * heartbeat; the server ends a stream with a part
 * `{"payload": null, "errors": [...]}` whose code says why (`RESUME`,
 * `TOKEN_EXPIRED`, `GOING_AWAY`, `NOT_FOUND` when the viewer left), then the
 * closing boundary. A subscription refused before it starts is answered as
 * a query is: JSON, with its status.
 *
 * The same checks, bounds and resume as over WebSocket: the token of the
 * Authorization header (the stream ends when it expires), a stream counts
 * as one of the user's sockets, its unsent bytes are bounded.
 */
export function createHttpSubscriptions(options: HttpSubscriptionsOptions): HttpSubscriptions {
  const { limits, activity, formatError } = options;
  const outlet = { sendBufferBytes: limits.sendBufferBytes, activity, observeLatency: options.observeLatency };
  const streams = new Set<(reason: CloseReason) => void>();
  let closing = false;

  const format = (errors: readonly GraphQLError[]) => errors.map((error) => formatError(error.toJSON(), error));
  const json = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type('application/json').send(JSON.stringify(body));

  return {
    wants: wantsMultipartSubscription,

    async handle(request, reply) {
      if (!wantsMultipartSubscription(request)) return false;
      const log = request.log;
      if (closing) {
        json(reply, 503, { errors: [{ message: CLOSES.goingAway.message, extensions: { code: ErrorCode.GoingAway } }] });
        return true;
      }
      const authorization = request.headers.authorization;
      const verified = await options.auth.verify(authorization);
      const context = await options.createContext({ authorization, logger: log, clientAddress: request.ip });
      const admission = await options.admit(request.body ?? {}, context);
      if ('errors' in admission) {
        // Not a subscription: Apollo answers it as any other request.
        if (admission.errors.some((error) => error.extensions.code === ErrorCode.OperationNotSupported)) return false;
        json(reply, admission.status, { errors: format(admission.errors) });
        return true;
      }
      const userId = verified?.viewer.id;
      if (userId !== undefined && !activity.openSocket(userId, 'http')) {
        activity.closed('tooManySockets');
        json(reply, 429, { errors: [{ message: CLOSES.tooManySockets.message, extensions: { code: ErrorCode.RateLimited, bucket: 'sockets' } }] });
        return true;
      }
      const { field } = admission;
      const response = reply.raw;
      let endReason: { reason: CloseReason; slowConsumer: boolean } | undefined;
      const hooks: DeliveryHooks = {
        admit(payload) {
          if (endReason) return 'stop';
          const verdict = bufferVerdict(payload, field, response.writableLength, outlet);
          if (verdict !== 'behind') return verdict;
          endReason = { reason: 'resume', slowConsumer: true };
          return 'stop';
        },
        delivered: (payload) => countDelivery(payload, field, outlet),
        resume(error) {
          endReason ??= { reason: 'resume', slowConsumer: error.slowConsumer };
        },
      };
      let result: Awaited<ReturnType<typeof executeSubscription>>;
      try {
        result = await executeSubscription(admission.args, hooks);
      } catch (error) {
        if (userId !== undefined) activity.closeSocket(userId, 'http');
        throw error;
      }
      if (!(Symbol.asyncIterator in result)) {
        if (userId !== undefined) activity.closeSocket(userId, 'http');
        json(reply, 200, { ...result, ...(result.errors ? { errors: format(result.errors) } : {}) });
        return true;
      }
      const results = result;

      // From here on the response is a stream this function writes itself.
      reply.hijack();
      response.writeHead(200, { 'content-type': CONTENT_TYPE, 'cache-control': 'no-cache', 'x-request-id': request.id });
      response.write(`\r\n--${BOUNDARY}`);
      activity.subscribed(field);
      log.debug({ field }, 'subscription stream opened');
      const heartbeat = setInterval(() => response.write(part('{}')), HEARTBEAT_MS).unref();
      const end = (reason: CloseReason) => {
        endReason ??= { reason, slowConsumer: false };
        void results.return?.();
      };
      streams.add(end);
      let expiry: NodeJS.Timeout | undefined;
      if (verified?.expiresAt !== undefined)
        expiry = setTimeout(() => end('tokenExpired'), Math.min(Math.max(verified.expiresAt - Date.now(), 0), 2 ** 31 - 1));
      // The client went away: nothing more to send.
      const clientLeft = () => void results.return?.();
      response.once('close', clientLeft);

      let finalErrors: GraphQLFormattedError[] | undefined;
      try {
        for (;;) {
          const next = await results.next();
          if (next.done) break;
          const value = next.value.errors ? { ...next.value, errors: format(next.value.errors) } : next.value;
          response.write(part(JSON.stringify({ payload: value })));
        }
      } catch (error) {
        // The stream ended with an error of the subscription's (the viewer left: NOT_FOUND).
        const graphqlError = error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error });
        finalErrors = format([graphqlError]);
      } finally {
        clearInterval(heartbeat);
        clearTimeout(expiry);
        streams.delete(end);
        response.off('close', clientLeft);
        activity.unsubscribed(field);
        if (userId !== undefined) activity.closeSocket(userId, 'http');
      }
      if (endReason) {
        activity.closed(endReason.reason, endReason.slowConsumer);
        const close = CLOSES[endReason.reason];
        finalErrors = [{ message: close.message, extensions: { code: close.errorCode } }];
      }
      log.debug({ field, reason: endReason?.reason ?? (finalErrors ? 'error' : 'client') }, 'subscription stream closed');
      if (!response.destroyed && !response.writableEnded) {
        if (finalErrors) response.write(part(JSON.stringify({ payload: null, errors: finalErrors })));
        response.end('--\r\n');
        // A client that reads nothing never takes the last bytes.
        setTimeout(() => {
          if (!response.writableFinished) response.destroy();
        }, CLOSE_GRACE_MS).unref();
      }
      return true;
    },

    async close(reason) {
      closing = true;
      for (const end of [...streams]) end(reason);
    },
  };
}
