import type pg from 'pg';
import { withClient } from './pool.js';

/**
 * The one way Parley runs a transaction, whoever runs it: the write path,
 * the statistics refresh, the migration runner, the seed. What differs
 * between them (a lock, a setting) is an option here, not a copy of
 * BEGIN, COMMIT and ROLLBACK.
 */

/**
 * A transaction-scoped advisory lock (pg_advisory_xact_lock), taken at the
 * start: COMMIT, ROLLBACK or a lost connection let it go, so no path can
 * leave it held.
 */
export interface AdvisoryLock {
  /** The lock's key; each mechanism that excludes others names its own (see their constants). */
  key: number;
  /**
   * 'block': wait for the session holding it to let it go. 'try': do not
   * wait; when another session holds it, roll back at once, without
   * running `work`, and resolve to LOCK_HELD.
   */
  wait: 'block' | 'try';
}

/** Settings for this transaction only (SET LOCAL): the connection's own come back after it. */
export interface TransactionSettings {
  /** PostgreSQL cancels a statement of this transaction running longer (0: no limit). Default: the connection's (the pool's statement_timeout). */
  statementTimeoutMs?: number;
  /** false: COMMIT does not wait for the WAL flush; a crash may lose the transaction, never corrupt the database. Default: true. */
  synchronousCommit?: boolean;
  /** Memory for each sort and hash, e.g. '64MB'. Default: the server's work_mem. */
  workMem?: string;
  /** Memory for index builds, e.g. '256MB'. Default: the server's maintenance_work_mem. */
  maintenanceWorkMem?: string;
}

export interface TransactionOptions extends TransactionSettings {
  /** Taken in this order, after the settings (so a statement timeout bounds a wait too). Default: none. */
  locks?: readonly AdvisoryLock[];
}

/** What withTransaction resolves to when a `wait: 'try'` lock was held elsewhere: `work` did not run, nothing was written. */
export const LOCK_HELD: unique symbol = Symbol('LOCK_HELD');
export type LockHeld = typeof LOCK_HELD;

/**
 * A connection checked out already (withClient's pair), that stays checked
 * out after the transaction: the migration runner's, whose session lock
 * spans several transactions and statements that cannot run in one.
 */
export interface CheckedOutConnection {
  client: pg.PoolClient;
  /** Retires the connection when the transaction cannot be rolled back (withClient's `discard`). */
  discard: (reason: Error) => void;
}

/** Where a transaction runs: a connection checked out of `pool` for it, or one the caller holds. */
export type TransactionTarget = Pick<pg.Pool, 'connect'> | CheckedOutConnection;

type Work<T> = (client: pg.PoolClient) => Promise<T>;

/**
 * Runs `work` in a transaction on one connection: COMMIT when it resolves,
 * ROLLBACK when it throws (the error is thrown again), so a failed
 * transaction leaves nothing behind. With no options it sends BEGIN,
 * `work`'s statements and COMMIT, nothing else. Settings, then locks, are
 * applied after BEGIN, in one statement each.
 */
export function withTransaction<T>(db: TransactionTarget, work: Work<T>): Promise<T>;
export function withTransaction<T>(
  db: TransactionTarget,
  options: TransactionOptions & { locks?: readonly (AdvisoryLock & { wait: 'block' })[] },
  work: Work<T>,
): Promise<T>;
export function withTransaction<T>(db: TransactionTarget, options: TransactionOptions, work: Work<T>): Promise<T | LockHeld>;
export async function withTransaction<T>(db: TransactionTarget, optionsOrWork: TransactionOptions | Work<T>, maybeWork?: Work<T>): Promise<T | LockHeld> {
  const [options, work] = typeof optionsOrWork === 'function' ? [{}, optionsOrWork] : [optionsOrWork, maybeWork!];
  const settings = settingsOf(options);
  const locks = options.locks ?? [];
  for (const lock of locks) {
    if (!Number.isSafeInteger(lock.key) || (lock.wait !== 'block' && lock.wait !== 'try')) {
      throw new TypeError(`withTransaction: a lock is { key: integer, wait: 'block' | 'try' } (got ${JSON.stringify(lock)})`);
    }
  }
  if ('client' in db) return transaction(db.client, db.discard, settings, locks, work);
  return withClient(db, (client, discard) => transaction(client, discard, settings, locks, work));
}

async function transaction<T>(
  client: pg.PoolClient,
  discard: (reason: Error) => void,
  settings: [string, string][],
  locks: readonly AdvisoryLock[],
  work: Work<T>,
): Promise<T | LockHeld> {
  try {
    await client.query('BEGIN');
    if (settings.length > 0) {
      await client.query(`SELECT ${settings.map((_, index) => `set_config($${2 * index + 1}, $${2 * index + 2}, true)`).join(', ')}`, settings.flat());
    }
    for (const lock of locks) {
      if (lock.wait === 'block') {
        await client.query('SELECT pg_advisory_xact_lock($1)', [lock.key]);
        continue;
      }
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [lock.key]);
      if (rows[0]?.locked !== true) {
        await client.query('ROLLBACK');
        return LOCK_HELD;
      }
    }
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // A connection that cannot roll back may still be inside the failed
    // transaction: it must not serve anyone again.
    await client.query('ROLLBACK').catch(discard);
    throw error;
  }
}

/** The options' settings as set_config pairs, each checked: a bad value fails here, naming it, not as a database error. */
function settingsOf(options: TransactionSettings): [string, string][] {
  const settings: [string, string][] = [];
  const { statementTimeoutMs, synchronousCommit, workMem, maintenanceWorkMem } = options;
  if (statementTimeoutMs !== undefined) {
    if (!Number.isSafeInteger(statementTimeoutMs) || statementTimeoutMs < 0) {
      throw new TypeError(`withTransaction: statementTimeoutMs is a whole number of milliseconds, 0 for none (got ${statementTimeoutMs})`);
    }
    settings.push(['statement_timeout', String(statementTimeoutMs)]);
  }
  if (synchronousCommit !== undefined) settings.push(['synchronous_commit', synchronousCommit ? 'on' : 'off']);
  for (const [name, value] of [
    ['work_mem', workMem],
    ['maintenance_work_mem', maintenanceWorkMem],
  ] as const) {
    if (value === undefined) continue;
    if (!/^\d+\s*(kB|MB|GB|TB)$/.test(value))
      throw new TypeError(`withTransaction: ${name} is an amount of memory such as '64MB' (got ${JSON.stringify(value)})`);
    settings.push([name, value]);
  }
  return settings;
}
