import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { handleProtocols, makeServer, type ConnectionInitMessage } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RealtimeLimits } from '../config.js';
import type { Auth } from '../graphql/auth.js';
import type { Context } from '../graphql/context.js';
import { ErrorCode } from '../graphql/errors.js';
import type { RealtimeActivity } from '../realtime/activity.js';
import { CLOSES, CloseCode, type CloseReason } from '../realtime/closes.js';
import { createKeepAlive } from './keep-alive.js';
import { bufferVerdict, countDelivery, executeSubscription, type DeliveryHooks } from './subscription-execution.js';
import type { SubscriptionGate } from './subscription-operation.js';

export interface WebSocketSubscriptionsOptions {
  /** The API's HTTP server (Fastify's): sockets are upgraded from its port. */
  server: Server;
  /** Where: `/graphql`, as for queries. */
  path: string;
  logger: FastifyBaseLogger;
  auth: Auth;
  limits: RealtimeLimits;
  activity: RealtimeActivity;
  /** The checks every subscription passes first (subscription-operation.ts). */
  admit: SubscriptionGate;
  /** A fresh context per subscription: its viewer from the token given at connection_init, its own loaders. */
  createContext: (input: { authorization: string; logger: FastifyBaseLogger; clientAddress: string }) => Promise<Context>;
  /** The server's error formatting (graphql/errors.ts createFormatError): what is unexpected is masked. */
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Records the time from a write's commit to the sending of its event. Default: not recorded. */
  observeLatency?: (field: string, seconds: number) => void;
}

/** A subscription transport's handle for the server's shutdown. */
export interface SubscriptionTransport {
  /** Ends every socket (or stream) with `reason` and refuses new ones; resolves once they are closed. */
  close(reason: CloseReason): Promise<void>;
}

/** One WebSocket and what the server knows of it: kept small, there is one per connected client. */
interface SocketState {
  socket: WebSocket;
  address: string;
  /** Set once connection_init carried a valid token. */
  viewerId?: number;
  authorization?: string;
  expiryTimer?: NodeJS.Timeout;
  /** Root field of each subscription running, by the client's id. */
  fields: Map<string, string>;
  /** Why the server is closing it, once it is. */
  closing?: CloseReason;
  /** Whether the socket answered the last keep-alive ping. */
  alive: boolean;
  /** Set once the socket closed (a subscription starting then is not counted). */
  closed: boolean;
}

/** After a close frame, how long a client has to answer it before the socket is cut (one that reads nothing never does). */
const CLOSE_GRACE_MS = 2_000;
/** The longest delay setTimeout keeps (about 24.8 days): a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The token of a connection_init payload: `{ authorization: "Bearer <token>" }` (any case), or `{ token }`. */
function authorizationOf(params: ConnectionInitMessage['payload']): string | undefined {
  if (!params) return undefined;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value !== 'string') continue;
    if (name.toLowerCase() === 'authorization') return value;
    if (name === 'token') return `Bearer ${value}`;
  }
  return undefined;
}

/**
 * GraphQL subscriptions over WebSocket (graphql-ws's `graphql-transport-ws`
 * protocol) on the API's own port and path. graphql-ws's server runs the
 * protocol; this file is its adapter to `ws` (in place of
 * graphql-ws/use/ws, which waits for every frame to be flushed, prints to
 * the console and closes only with its own codes) and Parley's rules:
 *
 * - connect: the token in connection_init, else 4403; at most
 *   REALTIME_SOCKETS_PER_USER sockets per user (4430); the socket closes
 *   when the token expires (4419);
 * - subscribe: at most REALTIME_SUBSCRIPTIONS_PER_SOCKET at once, then the
 *   checks of every operation (subscription-operation.ts);
 * - send: frames are not awaited; a socket with more than
 *   REALTIME_SEND_BUFFER_BYTES unsent is closed with "resume" (4410),
 *   typing is dropped from half that; keep-alive pings, and a socket that
 *   misses one is cut;
 * - close: every close the server decides is logged at debug with its reason.
 */
export function registerWebSocketSubscriptions(options: WebSocketSubscriptionsOptions): SubscriptionTransport {
  const { limits, activity, logger, auth, formatError } = options;
  const sockets = new Set<SocketState>();
  // A line about one socket, with its address and user: no child logger per socket (a few hundred bytes each, held while it is open).
  const debug = (state: SocketState, details: object, message: string) => {
    logger.debug({ websocket: state.address, userId: state.viewerId, ...details }, message);
  };
  // Which socket, subscription and field each subscription's context belongs to, for its delivery hooks.
  const subscriptions = new WeakMap<object, { state: SocketState; id: string; field: string }>();
  let closing = false;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => handleProtocols(protocols),
  });

  /** Ends a socket for `reason`, once: a close frame, then a cut if the client does not answer. */
  const closeWith = (state: SocketState, reason: CloseReason, slowConsumer = false) => {
    if (state.closing) return;
    state.closing = reason;
    activity.closed(reason, slowConsumer);
    debug(state, { reason, slowConsumer, code: CLOSES[reason].code }, 'closing a websocket');
    state.socket.close(CLOSES[reason].code, CLOSES[reason].message);
    setTimeout(() => state.socket.terminate(), CLOSE_GRACE_MS).unref();
  };

  const format = (errors: readonly GraphQLError[]) => errors.map((error) => formatError(error.toJSON(), error));
  const outlet = { sendBufferBytes: limits.sendBufferBytes, activity, observeLatency: options.observeLatency };

  const hooksFor = (state: SocketState, field: string): DeliveryHooks => ({
    admit(payload) {
      if (state.closing) return 'stop';
      const verdict = bufferVerdict(payload, field, state.socket.bufferedAmount, outlet);
      if (verdict !== 'behind') return verdict;
      closeWith(state, 'resume', true);
      return 'stop';
    },
    delivered: (payload) => countDelivery(payload, field, outlet),
    resume(error) {
      debug(state, { detail: error.detail }, 'a subscription must resume');
      closeWith(state, 'resume', error.slowConsumer);
    },
  });

  const server = makeServer<ConnectionInitMessage['payload'], SocketState>({
    connectionInitWaitTimeout: limits.connectionInitTimeoutMs,

    async onConnect(ctx) {
      const state = ctx.extra;
      const authorization = authorizationOf(ctx.connectionParams);
      const verified = await auth.verify(authorization);
      if (!verified) {
        debug(state, { reason: authorization ? 'bad token' : 'no token' }, 'websocket refused (4403)');
        return false;
      }
      // Closed while the token was checked: nothing to count, no timer to set.
      if (state.closed) return false;
      if (!activity.openSocket(verified.viewer.id, 'websocket')) {
        closeWith(state, 'tooManySockets');
        return false;
      }
      state.viewerId = verified.viewer.id;
      state.authorization = authorization;
      if (verified.expiresAt !== undefined) {
        const expire = () => {
          const left = verified.expiresAt! - Date.now();
          if (left > 0) state.expiryTimer = setTimeout(expire, Math.min(left, MAX_TIMER_MS));
          else closeWith(state, 'tokenExpired');
        };
        expire();
      }
      debug(state, {}, 'websocket connected');
      return true;
    },

    async onSubscribe(ctx, id, payload) {
      const state = ctx.extra;
      // This one included: graphql-ws reserves its id before asking.
      if (Object.keys(ctx.subscriptions).length > limits.subscriptionsPerSocket) {
        return [
          new GraphQLError(`At most ${limits.subscriptionsPerSocket} subscriptions at once on one socket: complete one first, or open another socket.`, {
            extensions: { code: ErrorCode.RateLimited, bucket: 'subscriptions', retryAfterSeconds: null },
          }),
        ];
      }
      const context = await options.createContext({ authorization: state.authorization!, logger, clientAddress: state.address });
      const admission = await options.admit(payload, context);
      if ('errors' in admission) {
        debug(state, { id, codes: admission.errors.map((error) => error.extensions.code) }, 'subscription refused');
        return admission.errors;
      }
      subscriptions.set(context, { state, id, field: admission.field });
      return admission.args;
    },

    async subscribe(args) {
      const { state, id, field } = subscriptions.get(args.contextValue as object)!;
      const result = await executeSubscription(args, hooksFor(state, field));
      // Counted once it follows its topic (the bus confirmed): what /metrics and the tests see as subscribed.
      if (Symbol.asyncIterator in result && !state.closed) {
        state.fields.set(id, field);
        activity.subscribed(field);
      }
      return result;
    },

    onNext(_ctx, _id, _payload, _args, result) {
      return result.errors ? { ...result, errors: format(result.errors) } : undefined;
    },

    onError(_ctx, _id, _payload, errors) {
      return format(errors);
    },

    onComplete(ctx, id) {
      const field = ctx.extra.fields.get(id);
      if (field === undefined) return;
      ctx.extra.fields.delete(id);
      activity.unsubscribed(field);
    },

    onClose(ctx, code, reason) {
      const state = ctx.extra;
      state.closed = true;
      clearTimeout(state.expiryTimer);
      for (const field of state.fields.values()) activity.unsubscribed(field);
      state.fields.clear();
      if (state.viewerId !== undefined) activity.closeSocket(state.viewerId, 'websocket');
      debug(state, { code, reason, closedBy: state.closing ?? 'client' }, 'websocket closed');
    },
  });

  // Keep-alive pings, spread over the interval (http/keep-alive.ts): a socket that did not answer its previous ping is cut.
  const keepAlive =
    limits.keepAliveSeconds > 0
      ? createKeepAlive<SocketState>({
          intervalMs: limits.keepAliveSeconds * 1000,
          ping: (state) => state.socket.ping(),
          cut: (state) => {
            debug(state, {}, 'websocket missed a keep-alive ping: cut');
            state.socket.terminate();
          },
        })
      : undefined;
  if (keepAlive) options.server.once('close', () => keepAlive.stop());

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // The address only: the upgrade request (its headers) is not kept while the socket is open.
    const state: SocketState = { socket, address: request.socket.remoteAddress ?? '', fields: new Map(), alive: true, closed: false };
    sockets.add(state);
    keepAlive?.add(state);
    debug(state, {}, 'websocket opened');
    // ws reports frames it refuses (too large: 1009, malformed: 1002) and closes the socket itself.
    socket.on('error', (error) => debug(state, { err: error }, 'websocket protocol error'));
    socket.on('pong', () => {
      state.alive = true;
    });
    const closed = server.opened(
      {
        protocol: socket.protocol,
        // Not awaited: the send buffer's size is the bound (hooksFor), not one frame in flight per subscription.
        send: (data) => {
          if (socket.readyState === socket.OPEN) socket.send(data);
        },
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data: Buffer) => {
            handle(data.toString('utf8')).catch((error: unknown) => {
              logger.error({ err: error, websocket: state.address, userId: state.viewerId }, 'unexpected error in a websocket operation');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      state,
    );
    socket.once('close', (code, reason) => {
      sockets.delete(state);
      keepAlive?.remove(state);
      void closed(code, reason.toString('utf8'));
    });
  });

  options.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = request.url?.split('?')[0];
    if (path !== options.path || closing) {
      socket.end(`HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  return {
    async close(reason) {
      closing = true;
      const open = [...sockets];
      const allClosed = Promise.all(open.map((state) => new Promise((resolve) => state.socket.once('close', resolve))));
      for (const state of open) closeWith(state, reason);
      await allClosed;
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
