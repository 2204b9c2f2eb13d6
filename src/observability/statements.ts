import type DataLoader from 'dataloader';
import type pg from 'pg';
import type { RequestPool } from '../db/pool.js';

/**
 * A request's SQL, recorded through the request's own objects rather than
 * an async context: the pool its loaders, resolvers and writer are given
 * (recordingPool) times each statement, and each loader's batch function
 * (traced) names the loader while it sends. That pool is the request's only
 * way to the database (graphql/context.ts, RequestDb), so this one record
 * serves the request log, the metrics, `extensions.sql` and the
 * x-sql-statements header alike. No AsyncLocalStorage, whose promise hooks
 * would tax every promise of every request: the cost is two clock readings
 * and one promise per statement.
 */
export interface StatementRecorder {
  /** The loader whose batch function is sending now, or null (set by traced, read by recordingPool). */
  loader: string | null;
  /** One statement, once it has completed or failed; its text only, never its parameters. */
  statement(text: string, durationMs: number, loader: string | null, failed: boolean): void;
  /** One batch a loader dispatched, with its number of keys. */
  batch(loader: string, size: number): void;
}

/** Wraps a loader's batch function, so that its statements and batch sizes are attributed to it. */
export type Traced = <Key, Value>(name: string, load: DataLoader.BatchLoadFn<Key, Value>) => DataLoader.BatchLoadFn<Key, Value>;

/** The loaders' own batch functions, unwrapped: where nothing records. */
export const untraced: Traced = (_name, load) => load;

/**
 * The batch function, named: the statements it sends while it runs
 * synchronously (every loader sends its one statement before its first
 * await) carry the loader's name, and each batch's size is recorded.
 */
export function tracer(recorder: StatementRecorder): Traced {
  return (name, load) => (keys) => {
    recorder.batch(name, keys.length);
    const outer = recorder.loader;
    recorder.loader = name;
    try {
      return load(keys);
    } finally {
      recorder.loader = outer;
    }
  };
}

type QueryArguments = [text: string | pg.QueryConfig, ...rest: unknown[]];
type AnyQuery = (...args: unknown[]) => unknown;

const textOf = (query: string | pg.QueryConfig): string => (typeof query === 'string' ? query : query.text);

/** Sends through `send` and records the statement when it settles (promise or callback form, as pg allows). */
function recorded(recorder: StatementRecorder, send: AnyQuery, self: unknown, args: QueryArguments): unknown {
  const text = textOf(args[0]);
  const loader = recorder.loader;
  const started = performance.now();
  const last = args.at(-1);
  if (typeof last === 'function') {
    const callback = last as (error: Error | null, ...rest: unknown[]) => void;
    const wrapped = (error: Error | null, ...rest: unknown[]) => {
      recorder.statement(text, performance.now() - started, loader, Boolean(error));
      callback(error, ...rest);
    };
    return send.apply(self, [...args.slice(0, -1), wrapped]);
  }
  const sent = send.apply(self, args) as Promise<unknown> | undefined;
  // A submittable (a cursor, a stream) is not a statement this records.
  if (typeof sent?.then !== 'function') return sent;
  return sent.then(
    (result) => {
      recorder.statement(text, performance.now() - started, loader, false);
      return result;
    },
    (error: unknown) => {
      recorder.statement(text, performance.now() - started, loader, true);
      throw error;
    },
  );
}

/**
 * The pool as one request sees it: every statement it sends, through
 * `query` or on a connection it checks out (a write's transaction, BEGIN and
 * COMMIT included), is recorded in `recorder`, timed from when it is sent on
 * a connection to its result: the wait for a free connection is not a
 * statement's time (a saturated pool shows in db_pool_connections, and in
 * the request's own duration), so a slow statement is one the database was
 * slow to answer. The connection is given back to the pool as it was.
 */
export function recordingPool(pool: pg.Pool, recorder: StatementRecorder): RequestPool {
  const checkOut = async (): Promise<pg.PoolClient> => {
    const client = await pool.connect();
    // The client's own methods, unbound: put back as they were on release, and called on the client meanwhile.
    /* eslint-disable @typescript-eslint/unbound-method */
    const clientQuery = client.query;
    const release = client.release;
    /* eslint-enable @typescript-eslint/unbound-method */
    client.query = ((...args: QueryArguments) => recorded(recorder, clientQuery, client, args)) as pg.PoolClient['query'];
    client.release = (...args: Parameters<typeof release>) => {
      client.query = clientQuery;
      client.release = release;
      return release.apply(client, args);
    };
    return client;
  };
  // pg-pool's own query, on a connection of its own, timed once it has one.
  // As pg-pool does, a connection whose statement failed (or that broke while
  // in use) is released with the error, and the pool closes it.
  const query = async (text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> => {
    // Read now: the loader's batch function is running (see tracer).
    const loader = recorder.loader;
    const client = await pool.connect();
    let failure: Error | undefined;
    const broke = (error: Error) => {
      failure ??= error;
    };
    client.on('error', broke);
    const started = performance.now();
    try {
      return (await (client.query as AnyQuery)(text, values)) as pg.QueryResult;
    } catch (error) {
      failure ??= error as Error;
      throw error;
    } finally {
      recorder.statement(textOf(text), performance.now() - started, loader, failure !== undefined);
      client.removeListener('error', broke);
      client.release(failure);
    }
  };
  return { query: query as pg.Pool['query'], connect: checkOut };
}

/** Whitespace runs in SQL, folded to one space for a log line. */
const WHITESPACE = /\s+/g;

/**
 * Where the select list of a statement starting with SELECT ends: the first
 * FROM outside parentheses and quotes (a subquery in the list has its own).
 * -1 when there is none.
 */
function topLevelFrom(text: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = 7; index < text.length; index += 1) {
    const character = text[index]!;
    if (quote) {
      if (character === quote) quote = undefined;
    } else if (character === "'" || character === '"') quote = character;
    else if (character === '(') depth += 1;
    else if (character === ')') depth -= 1;
    else if (depth === 0 && character === ' ' && text.startsWith(' FROM ', index)) return index;
  }
  return -1;
}

/**
 * A statement's text for a log line: whitespace folded, a long select list
 * left out (`SELECT … FROM users WHERE …`: what it reads and how is what
 * tells statements apart), cut to `length` characters. Parameters are never
 * part of it (they travel apart, as $1…).
 */
export function shortenStatement(text: string, length = 200): string {
  let folded = text.replace(WHITESPACE, ' ').trim();
  if (folded.startsWith('SELECT ')) {
    const from = topLevelFrom(folded);
    if (from > 7 + 40) folded = `SELECT …${folded.slice(from)}`;
  }
  return folded.length <= length ? folded : `${folded.slice(0, length - 1)}…`;
}

/** A statement's whole text for `extensions.sql`: whitespace folded, nothing left out. */
export function foldStatement(text: string): string {
  return text.replace(WHITESPACE, ' ').trim();
}
