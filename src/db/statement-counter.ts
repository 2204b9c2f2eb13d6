import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';

/**
 * Counts the SQL statements each request sends, at the driver: every query
 * that goes through the pool, whoever sends it (our SQL, Prisma's adapter,
 * BEGIN/COMMIT of a transaction). The request's counter travels with its
 * async context, so concurrent requests never mix their counts.
 */
export interface StatementCounter {
  count: number;
  /** The statements' text, kept only when asked for (tests, debugging). */
  statements?: string[];
}

const currentCounter = new AsyncLocalStorage<StatementCounter>();

/** Runs `work` with every statement it sends counted in `counter`. */
export function withStatementCounter<T>(counter: StatementCounter, work: () => T): T {
  return currentCounter.run(counter, work);
}

function record(query: unknown): void {
  const counter = currentCounter.getStore();
  if (!counter) return;
  counter.count += 1;
  counter.statements?.push(typeof query === 'string' ? query : ((query as { text?: string })?.text ?? String(query)));
}

const INSTRUMENTED = new WeakSet<pg.Pool>();

type Callback = (error: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void;

/**
 * Instruments a pool in place. Statements are recorded where the caller
 * sends them (pool.query, or the query of a client it checked out), never
 * inside the pool: a request waiting for a free connection is resumed from
 * another request's release, in the wrong async context.
 */
export function instrumentPool(pool: pg.Pool): pg.Pool {
  // Twice would count every statement twice.
  if (INSTRUMENTED.has(pool)) return pool;
  INSTRUMENTED.add(pool);
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    record(args[0]);
    return poolQuery(...args);
  };
  const poolConnect = pool.connect.bind(pool) as (callback?: Callback) => Promise<pg.PoolClient> | undefined;
  (pool as { connect: unknown }).connect = (callback?: Callback) => {
    // The callback form is pool.query's own, already counted above.
    if (callback) return poolConnect(callback);
    return poolConnect()!.then((client) => {
      // The client's own methods, unbound: put back as they were on release, and called with apply(client) meanwhile.
      /* eslint-disable @typescript-eslint/unbound-method */
      const clientQuery = client.query;
      const release = client.release;
      /* eslint-enable @typescript-eslint/unbound-method */
      client.query = ((...args: unknown[]) => {
        record(args[0]);
        return (clientQuery as (...args: unknown[]) => unknown).apply(client, args);
      }) as typeof client.query;
      // Back in the pool, the client is pool.query's to use: uninstrumented.
      client.release = (...args: Parameters<typeof release>) => {
        client.query = clientQuery;
        client.release = release;
        return release.apply(client, args);
      };
      return client;
    });
  };
  return pool;
}
