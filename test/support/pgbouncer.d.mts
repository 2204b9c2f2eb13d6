// Types of pgbouncer.mjs, for the tests that import it.
export declare const INSTALL_PGBOUNCER: string;

export interface PgBouncerOptions {
  /** The PostgreSQL server it pools for; its host, port, user and password are used, not its database. */
  serverUrl: string;
  /** More [databases] entries, `name: 'host=… port=… pool_size=…'`. Default: only `*`, every database of the server. */
  databases?: Record<string, string>;
  /**
   * [pgbouncer] settings over the defaults: pool_mode transaction,
   * default_pool_size 10, server_round_robin 1, auth_type trust,
   * server_idle_timeout 10, max_client_conn 500.
   */
  settings?: Record<string, string | number>;
}

export interface OwnPgBouncer {
  port: number;
  /** The ini file it was started with. */
  iniPath: string;
  /** The URL of a database through it (default: postgres; `pgbouncer` is its admin console). */
  url(database?: string): string;
  /** Runs one admin console command (SHOW POOLS, SHOW CONFIG, KILL db, PAUSE db, RESUME db…) on a connection of its own; resolves to its rows. */
  admin(statement: string): Promise<Record<string, unknown>[]>;
  /** What it has logged (its last 200 chunks of standard error). */
  log(): string;
  /** Stops it at once and removes its directory. */
  close(): Promise<void>;
}

/** The binary: PGBOUNCER_PATH, else on PATH, else /usr/sbin/pgbouncer; throws saying how to install it. */
export declare function findPgBouncer(): string;

export declare function startPgBouncer(options: PgBouncerOptions): Promise<OwnPgBouncer>;
