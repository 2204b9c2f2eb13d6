// Internal: a process of `npm run bench:realtime`'s subscribers. It holds
// its share of the WebSockets (one process may hold at most 20,000 open
// files here), one `messageAdded` subscription on each, speaking
// graphql-transport-ws frame by frame (graphql-ws's client would cost this
// process CPU the server needs: the protocol is four frames). It records
// what each subscription receives, in order, and how long after its commit
// each message arrived; the parent compares that with the database.
//
// A socket that closes is reopened, on the fallback server when there is one,
// with `after` the cursor of the last message it received: as an
// application resumes.
import WebSocket from 'ws';
import { idOfType } from '../src/graphql/relay/global-id.js';

export interface Subscriber {
  token: string;
  /** The conversation's global ID. */
  conversationId: string;
  /** Where the subscription starts: the cursor of the last message the client has. */
  after: string;
}

export type ClientRequest =
  | { type: 'open'; url: string; fallbackUrl?: string; query: string; subscribers: Subscriber[]; concurrency: number }
  /** Forget what arrived so far (the parent verified it). */
  | { type: 'reset' }
  | { type: 'collect' }
  | { type: 'stop' };

export interface Collected {
  type: 'collected';
  /** Message database ids each subscriber received since the last reset, in arrival order (by subscriber index). */
  received: string[][];
  /** Milliseconds from each message's createdAt to its arrival here, live messages only. */
  latencies: number[];
  /** Each latency's message createdAt (epoch ms), in the same order: where in time the slow ones were written. */
  writtenAt: number[];
  /** Close codes seen, with how many times each. */
  closes: Record<string, number>;
  /** GraphQL errors and unexpected frames, by message. */
  errors: Record<string, number>;
  reconnects: number;
}

export type ClientReply = { type: 'opened'; failed: number; firstFailure?: string } | Collected | { type: 'error'; message: string };

interface AddedMessage {
  id: string;
  cursor: string;
  createdAt: string;
}

interface Subscription {
  subscriber: Subscriber;
  received: string[];
  socket?: WebSocket;
  /** Messages up to this cursor came from PostgreSQL (a replay): not counted in latency. */
  replaying: boolean;
}

const send = (reply: ClientReply) => process.send!(reply);

let subscriptions: Subscription[] = [];
let latencies: number[] = [];
let writtenAt: number[] = [];
let closes: Record<string, number> = {};
let errors: Record<string, number> = {};
let reconnects = 0;
let stopping = false;
let query = '';
let fallbackUrl: string | undefined;

const count = (into: Record<string, number>, key: string) => void (into[key] = (into[key] ?? 0) + 1);

/** Opens a socket and subscribes; resolves once subscribed (or rejects when refused). */
function open(url: string, subscription: Subscription): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    subscription.socket = socket;
    let subscribed = false;
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${subscription.subscriber.token}` } }));
    });
    socket.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString()) as {
        type: string;
        payload?: { data?: { messageAdded?: AddedMessage }; errors?: { message: string }[] };
      };
      if (frame.type === 'connection_ack') {
        const variables = { id: subscription.subscriber.conversationId, after: subscription.subscriber.after };
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
        subscribed = true;
        resolve();
      } else if (frame.type === 'next') {
        const message = frame.payload?.data?.messageAdded;
        if (!message) {
          count(errors, frame.payload?.errors?.[0]?.message ?? 'a next frame without messageAdded');
          return;
        }
        subscription.received.push(idOfType(message.id, 'Message', 'id'));
        subscription.subscriber.after = message.cursor;
        if (!subscription.replaying) {
          const created = Date.parse(message.createdAt);
          latencies.push(Date.now() - created);
          writtenAt.push(created);
        }
      } else if (frame.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      } else if (frame.type === 'error' || frame.type === 'complete') {
        count(errors, frame.type === 'error' ? ((frame.payload as unknown as { message: string }[])[0]?.message ?? 'error') : 'complete');
      }
    });
    socket.on('error', (error) => {
      if (!subscribed) reject(error);
    });
    socket.on('close', (code) => {
      if (!subscribed) reject(new Error(`closed with ${code} before subscribing`));
      if (stopping) return;
      count(closes, String(code));
      // Resume as an application would: elsewhere when there is elsewhere, from the last cursor.
      const target = fallbackUrl ?? url;
      subscription.replaying = true;
      reconnects += 1;
      setTimeout(
        () => {
          open(target, subscription).then(
            // Replayed messages arrive first; after a short while everything is live again.
            () => setTimeout(() => (subscription.replaying = false), 1_000),
            (error: Error) => count(errors, `reconnect: ${error.message}`),
          );
        },
        50 + Math.random() * 200,
      );
    });
  });
}

async function openAll(request: Extract<ClientRequest, { type: 'open' }>): Promise<void> {
  query = request.query;
  fallbackUrl = request.fallbackUrl;
  subscriptions = request.subscribers.map((subscriber) => ({ subscriber, received: [], replaying: false }));
  let next = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const worker = async () => {
    while (next < subscriptions.length) {
      const subscription = subscriptions[next++]!;
      try {
        await open(request.url, subscription);
      } catch (error) {
        failed += 1;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, worker));
  send({ type: 'opened', failed, firstFailure });
}

process.on('message', (request: ClientRequest) => {
  switch (request.type) {
    case 'open':
      openAll(request).catch((error: Error) => send({ type: 'error', message: error.message }));
      break;
    case 'reset':
      for (const subscription of subscriptions) subscription.received = [];
      latencies = [];
      writtenAt = [];
      closes = {};
      errors = {};
      reconnects = 0;
      break;
    case 'collect':
      send({ type: 'collected', received: subscriptions.map((subscription) => subscription.received), latencies, writtenAt, closes, errors, reconnects });
      break;
    case 'stop':
      stopping = true;
      for (const subscription of subscriptions) subscription.socket?.terminate();
      process.disconnect();
      break;
  }
});
