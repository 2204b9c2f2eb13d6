// Internal: subscription clients for the tests, as applications hold them:
// graphql-ws's own client over `ws`, and a raw WebSocket that speaks the
// protocol frame by frame (for what a well-behaved client never sends).
import type { FormattedExecutionResult as ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface CloseEvent {
  code: number;
  reason: string;
}

export interface LiveClient {
  client: Client;
  /** Every close of its socket, as the client saw it. */
  closes: CloseEvent[];
  /** Resolves with the next close of its socket. */
  nextClose(): Promise<CloseEvent>;
  dispose(): Promise<void>;
}

/** The ws:// address of a server's /graphql. */
export const webSocketUrl = (httpUrl: string) => `${httpUrl.replace(/^http/, 'ws')}/graphql`;

/** graphql-ws's client, which never reconnects by itself: the tests decide when to. */
export function connect(httpUrl: string, token: string | undefined): LiveClient {
  const closes: CloseEvent[] = [];
  let waiting: ((event: CloseEvent) => void)[] = [];
  const client = createClient({
    url: webSocketUrl(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as CloseEvent;
        closes.push({ code, reason });
        for (const resolve of waiting) resolve({ code, reason });
        waiting = [];
      },
    },
  });
  return {
    client,
    closes,
    nextClose: () => new Promise((resolve) => waiting.push(resolve)),
    dispose: () => client.dispose() as Promise<void>,
  };
}

export interface Collected<Data> {
  results: ExecutionResult<Data, unknown>[];
  /** Set when the subscription ended with an error (a close event, or GraphQL errors). */
  error: unknown;
  completed: boolean;
  /** Resolves once `count` results arrived in all, or the subscription ended; rejects after `timeoutMs`. */
  until(count: number, timeoutMs?: number): Promise<ExecutionResult<Data, unknown>[]>;
  /** Resolves once the subscription ended (completed or failed). */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

/** Subscribes and records what arrives. */
export function collect<Data = Record<string, unknown>>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<Data> {
  const checks: (() => void)[] = [];
  const check = () => checks.splice(0).forEach((run) => run());
  const collected: Collected<Data> = {
    results: [],
    error: undefined,
    completed: false,
    until(count, timeoutMs = 15_000) {
      return waitUntil(() => collected.results.length >= count || collected.completed || collected.error !== undefined, timeoutMs, `${count} results`).then(
        () => collected.results,
      );
    },
    ended(timeoutMs = 15_000) {
      return waitUntil(() => collected.completed || collected.error !== undefined, timeoutMs, 'the end of the subscription');
    },
    unsubscribe: () => {},
  };
  const waitUntil = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}: got ${JSON.stringify(collected.results)}`)),
        timeoutMs,
      );
      const run = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
        } else checks.push(run);
      };
      run();
    });
  collected.unsubscribe = client.subscribe<Data>(
    { query, variables },
    {
      next: (result) => {
        collected.results.push(result);
        check();
      },
      error: (error) => {
        collected.error = error;
        check();
      },
      complete: () => {
        collected.completed = true;
        check();
      },
    },
  );
  return collected;
}

/** A WebSocket speaking graphql-transport-ws frame by frame. */
export interface RawSocket {
  socket: WebSocket;
  /** Frames received, parsed. */
  frames: Record<string, unknown>[];
  send(frame: unknown): void;
  /** Resolves with the first frame received (from now on or before) that `match` accepts. */
  frame(match: (frame: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  closed: Promise<CloseEvent>;
  /** Pings received from the server, counted from the start (one may come in the same read as the upgrade's answer). */
  pings(): number;
}

export async function openRawSocket(
  httpUrl: string,
  protocol: string | undefined = 'graphql-transport-ws',
  options: { /** Answer the server's pings (default), as every WebSocket client does. */ autoPong?: boolean } = {},
): Promise<RawSocket> {
  const socket = new WebSocket(webSocketUrl(httpUrl), protocol ? [protocol] : [], { autoPong: options.autoPong ?? true });
  const frames: Record<string, unknown>[] = [];
  const listeners: (() => void)[] = [];
  let pings = 0;
  socket.on('ping', () => (pings += 1));
  socket.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    listeners.splice(0).forEach((listener) => listener());
  });
  const closed = new Promise<CloseEvent>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    frames,
    closed,
    pings: () => pings,
    send: (frame) => socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    frame(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms: got ${JSON.stringify(frames)}`)), timeoutMs);
        const look = () => {
          const found = frames.find(match);
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else listeners.push(look);
        };
        look();
      });
    },
  };
}
