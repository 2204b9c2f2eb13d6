// Internal: how every subscription transport runs a subscription once it is
// admitted: graphql-js's source stream, each payload executed in turn with
// the subscription's context, its loaders cleared after each (an event reads
// what is true when it is sent, and holds nothing until the next), and the
// transport told of each payload so it can drop, count or stop.
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Context } from '../graphql/context.js';
import { clearLoaders, type Loaders } from '../modules/loaders.js';
import { ResumeRequiredError } from '../realtime/closes.js';
import type { RealtimeActivity } from '../realtime/activity.js';
import type { LiveMeta } from '../realtime/live-queue.js';

export interface DeliveryHooks {
  /**
   * Before a payload is executed: `send` it, `drop` it (one that may be
   * dropped, while the client is behind), or `stop` (the transport closed
   * the subscription: the client is too far behind).
   */
  admit(payload: LiveMeta): 'send' | 'drop' | 'stop';
  /** A payload was executed; its result is sent next. */
  delivered(payload: LiveMeta): void;
  /** The stream cannot promise every event any more: the transport closes with "resume". The stream then ends. */
  resume(error: ResumeRequiredError): void;
}

/** What a transport knows of its client's connection when a payload is to go out. */
export interface Outlet {
  /** REALTIME_SEND_BUFFER_BYTES. */
  sendBufferBytes: number;
  /** Counts what was sent and skipped (realtime/activity.ts). */
  activity: Pick<RealtimeActivity, 'sent' | 'skipped'>;
  /** Records commit-to-send latency. */
  observeLatency?: (field: string, seconds: number) => void;
}

/**
 * The one rule every transport applies before a payload goes out, with
 * `waiting` the bytes written and not yet sent to the client: past
 * half its send buffer a client is sent no droppable payload (typing);
 * past the whole buffer it is too far behind ('behind': the transport
 * closes it with "resume"). Skips are counted here.
 */
export function bufferVerdict(payload: LiveMeta, field: string, waiting: number, outlet: Outlet): 'send' | 'drop' | 'behind' {
  if (payload.droppable && waiting > outlet.sendBufferBytes / 2) {
    outlet.activity.skipped(field);
    return 'drop';
  }
  return waiting > outlet.sendBufferBytes ? 'behind' : 'send';
}

/** After a payload was executed: counted, and its commit-to-send latency observed. */
export function countDelivery(payload: LiveMeta, field: string, outlet: Outlet): void {
  outlet.activity.sent(field);
  if (payload.committedAt !== undefined) outlet.observeLatency?.(field, (Date.now() - payload.committedAt) / 1000);
}

/** How to drop the loaders of contexts made by loadersOnDemand. */
const droppers = new WeakMap<Context, () => void>();

/** Subscriptions read; a resolver that tried to write from one would be a bug. */
const noWrites: Context['writer'] = {
  run: () => Promise.reject(new Error('a subscription does not write')),
};

/**
 * A subscription's context, made from a request's: its loaders are made
 * when first used (an event resolved) and dropped after each event, so an
 * idle subscription holds none (a set of loaders is some 6.5 KB) and an
 * event reads what is true when it is sent; and it has no writer (whose
 * after-commit steps would hold the request's first loaders).
 */
export function loadersOnDemand(context: Context, create: () => Loaders): Context {
  let loaders: Loaders | undefined;
  Object.defineProperty(context, 'loaders', { get: () => (loaders ??= create()), enumerable: true, configurable: true });
  context.writer = noWrites;
  droppers.set(context, () => {
    loaders = undefined;
  });
  return context;
}

/** After an event: the loaders dropped (or, for a context with its own, cleared). */
function releaseLoaders(context: Context): void {
  const drop = droppers.get(context);
  if (drop) drop();
  else clearLoaders(context.loaders);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Runs an admitted subscription: an ExecutionResult when it fails before it
 * starts (NOT_FOUND for a conversation the viewer does not take part in),
 * else its results, one per payload. Any other error the stream ends with
 * (NOT_FOUND when the viewer leaves) is thrown to the transport.
 *
 * An iterator of its own, not an async generator: a generator's return()
 * waits until the generator next yields, which an idle subscription may
 * never do, and the transport calls return() when the client leaves. This
 * one's return() ends the source at once, which ends a pending next().
 */
export async function executeSubscription(args: ExecutionArgs, hooks: DeliveryHooks): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  const context = args.contextValue as Context;
  // What the subscribe resolver read (the conversation's visibility) is not kept while the subscription idles.
  releaseLoaders(context);
  if (!isAsyncIterable(source)) return source;
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });
  const finish = async () => {
    finished = true;
    await iterator.return?.();
  };
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      while (!finished) {
        let next: IteratorResult<unknown>;
        try {
          next = await iterator.next();
        } catch (error) {
          await finish();
          if (!(error instanceof ResumeRequiredError)) throw error;
          hooks.resume(error);
          return done();
        }
        if (next.done || finished) break;
        const payload = next.value as LiveMeta;
        const verdict = hooks.admit(payload);
        if (verdict === 'stop') break;
        if (verdict === 'drop') continue;
        const result = await execute({ ...args, rootValue: payload });
        releaseLoaders(context);
        hooks.delivered(payload);
        return { value: result, done: false };
      }
      await finish();
      return done();
    },
    async return() {
      await finish();
      return done();
    },
    async throw(error?: unknown) {
      await finish();
      throw error instanceof Error ? error : new Error(String(error));
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}
