// Internal: a PostgreSQL primary of the test file's own with a hot standby
// streaming from it, each in a temporary directory on a free port: the
// primary initialised and migrated (Parley's database, `parley`), then the
// standby made from a base backup of it. A test pauses the standby's replay
// to make it lag on purpose, or stops it. About three seconds to start.
import pg from 'pg';
import { migrate } from '../../src/db/migrate.js';
import type { TestDatabase } from './database.js';
import { startOwnPostgres, type OwnPostgres } from './postgres-server.js';
import { waitFor } from './wait-for.js';

const DATABASE = 'parley';

export interface StreamingReplica {
  primary: OwnPostgres;
  standby: OwnPostgres;
  /** Parley's database on the primary, migrated, as startTestApi takes it (its pool is the test's, for fixtures). */
  database: TestDatabase;
  /** The same database on the standby (DATABASE_REPLICA_URLS). */
  replicaUrl: string;
  /** Runs one statement on the standby, on a connection of its own. */
  queryStandby<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** The primary's current WAL position (`pg_current_wal_lsn()`), as text. */
  primaryLsn(): Promise<string>;
  /** Stops the standby's replay where it is (`pg_wal_replay_pause()`): it still receives WAL, and serves reads of what it had replayed. */
  pauseReplay(): Promise<void>;
  /** Resumes it (`pg_wal_replay_resume()`). */
  resumeReplay(): Promise<void>;
  /** Resolves once the standby has replayed everything the primary had written when it was called. */
  caughtUp(): Promise<void>;
  /** Stops both servers (the standby first) and deletes their directories. */
  close(): Promise<void>;
}

export async function startStreamingReplica(): Promise<StreamingReplica> {
  const primary = await startOwnPostgres({ settings: { wal_level: 'replica', max_wal_senders: 4 } });
  let standby: OwnPostgres | undefined;
  let pool: pg.Pool | undefined;
  try {
    await primary.query(`CREATE DATABASE ${DATABASE}`);
    pool = new pg.Pool({ connectionString: primary.url(DATABASE), max: 4 });
    await migrate(pool);
    standby = await startOwnPostgres({ standbyOf: primary });
  } catch (error) {
    await pool?.end();
    await primary.destroy();
    throw error;
  }
  const url = primary.url(DATABASE);
  const standbyServer = standby;
  const fixtures = pool;
  const queryStandby = <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => standbyServer.query<Row>(sql, params, DATABASE);
  const primaryLsn = async () => (await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  return {
    primary,
    standby: standbyServer,
    database: { name: DATABASE, url, directUrl: url, pool: fixtures, close: async () => {} },
    replicaUrl: standbyServer.url(DATABASE),
    queryStandby,
    primaryLsn,
    async pauseReplay() {
      await queryStandby('SELECT pg_wal_replay_pause()');
      await waitFor(
        async () => (await queryStandby<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state'))[0]!.state === 'paused',
        'the standby to pause its replay',
      );
    },
    async resumeReplay() {
      await queryStandby('SELECT pg_wal_replay_resume()');
    },
    async caughtUp() {
      const target = await primaryLsn();
      await waitFor(
        async () => (await queryStandby<{ replayed: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS replayed', [target]))[0]!.replayed,
        `the standby to replay up to ${target}`,
      );
    },
    async close() {
      try {
        await fixtures.end();
      } finally {
        await standbyServer.destroy().finally(() => primary.destroy());
      }
    },
  };
}
