// withTransaction, the one way Parley runs a transaction (src/db/transaction.ts):
// commit or roll back whole, settings and advisory locks that last the
// transaction only, on a pooled connection or on one the caller holds, and
// misuse refused before anything is sent.
import pg from 'pg';
import { withClient } from '../../src/db/pool.js';
import { LOCK_HELD, withTransaction } from '../../src/db/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
// Sessions of their own, on the database itself even in a run through
// PgBouncer (where database.pool's statements may each take another server
// connection): the holders of session locks, and the caller that keeps a
// connection, as the migration runner does on DATABASE_DIRECT_URL.
let direct: pg.Pool;
const LOCK_KEY = 91_000_001;

beforeAll(async () => {
  database = await createTestDatabase();
  direct = new pg.Pool({ connectionString: database.directUrl, max: 2 });
  await database.pool.query('CREATE TABLE transaction_test (value text NOT NULL)');
});
afterAll(async () => {
  await direct.end();
  await database.close();
});
beforeEach(() => database.pool.query('TRUNCATE transaction_test'));

/** A pool of one connection that records the text of every statement sent on connections it lends. */
function recordingPool(): { pool: Pick<pg.Pool, 'connect'>; sent: string[]; end: () => Promise<void> } {
  const inner = new pg.Pool({ connectionString: database.url, max: 1 });
  const sent: string[] = [];
  const pool = {
    async connect() {
      const client = await inner.connect();
      const query = client.query.bind(client) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
      Object.assign(client, {
        query: (text: string, values?: unknown[]) => {
          sent.push(text);
          return query(text, values);
        },
      });
      return client;
    },
  } as Pick<pg.Pool, 'connect'>;
  return { pool, sent, end: () => inner.end() };
}

const values = async () => (await database.pool.query<{ value: string }>('SELECT value FROM transaction_test ORDER BY value')).rows.map((row) => row.value);

/** Advisory locks of LOCK_KEY in this database: granted, or waited for. */
async function advisoryLocks(): Promise<{ granted: boolean }[]> {
  const { rows } = await database.pool.query<{ granted: boolean }>(
    `SELECT granted FROM pg_locks WHERE locktype = 'advisory' AND objid = $1
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_KEY],
  );
  return rows;
}

describe('withTransaction', () => {
  it('commits what work wrote when it resolves, sending BEGIN, its statements and COMMIT only', async () => {
    const { pool, sent, end } = recordingPool();
    try {
      const result = await withTransaction(pool, async (client) => {
        await client.query("INSERT INTO transaction_test VALUES ('kept')");
        return 'done';
      });
      expect(result).toBe('done');
      expect(sent).toEqual(['BEGIN', "INSERT INTO transaction_test VALUES ('kept')", 'COMMIT']);
    } finally {
      await end();
    }
    expect(await values()).toEqual(['kept']);
  });

  it('rolls back everything when work throws, and throws its error', async () => {
    const failure = new Error('refused');
    await expect(
      withTransaction(database.pool, async (client) => {
        await client.query("INSERT INTO transaction_test VALUES ('dropped')");
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await values()).toEqual([]);
  });

  it('applies its settings to the transaction only', async () => {
    const { pool, end } = recordingPool();
    try {
      const inside = await withTransaction(
        pool,
        { statementTimeoutMs: 1_234, synchronousCommit: false, workMem: '12MB', maintenanceWorkMem: '34MB' },
        async (client) => {
          const { rows } = await client.query<Record<string, string>>(
            `SELECT current_setting('statement_timeout') AS timeout, current_setting('synchronous_commit') AS sync,
                  current_setting('work_mem') AS work, current_setting('maintenance_work_mem') AS maintenance`,
          );
          return rows[0];
        },
      );
      expect(inside).toEqual({ timeout: '1234ms', sync: 'off', work: '12MB', maintenance: '34MB' });
      // The same connection (the pool holds one) afterwards: its own values again.
      const after = await withTransaction(
        pool,
        async (client) => (await client.query<{ timeout: string }>("SELECT current_setting('statement_timeout') AS timeout")).rows[0],
      );
      const { rows: own } = await database.pool.query<{ timeout: string }>("SELECT current_setting('statement_timeout') AS timeout");
      expect(after).toEqual(own[0]);
    } finally {
      await end();
    }
  });

  it('lets PostgreSQL cancel a statement that outlives statementTimeoutMs, and rolls back', async () => {
    await expect(
      withTransaction(database.pool, { statementTimeoutMs: 50 }, async (client) => {
        await client.query("INSERT INTO transaction_test VALUES ('dropped')");
        await client.query('SELECT pg_sleep(5)');
      }),
    ).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
    expect(await values()).toEqual([]);
  });

  it("with a 'try' lock held elsewhere: LOCK_HELD, work not run, nothing left held", async () => {
    const holder = await direct.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      let ran = false;
      const result = await withTransaction(database.pool, { locks: [{ key: LOCK_KEY, wait: 'try' }] }, async () => {
        ran = true;
      });
      expect(result).toBe(LOCK_HELD);
      expect(ran).toBe(false);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
      holder.release();
    }
    expect(await advisoryLocks()).toEqual([]);
  });

  it("with a 'try' lock free: runs work holding it, and lets it go at commit", async () => {
    const held = await withTransaction(database.pool, { locks: [{ key: LOCK_KEY, wait: 'try' }] }, () => advisoryLocks());
    expect(held).toEqual([{ granted: true }]);
    expect(await advisoryLocks()).toEqual([]);
  });

  it("with a 'block' lock: waits for its holder, then runs; lets it go after a rollback too", async () => {
    const holder = await direct.connect();
    let running: Promise<unknown> | undefined;
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      running = withTransaction(database.pool, { locks: [{ key: LOCK_KEY, wait: 'block' }] }, async (client) => {
        await client.query("INSERT INTO transaction_test VALUES ('after the holder')");
        throw new Error('rolled back');
      });
      // Waiting: its request for the lock is in pg_locks, not granted.
      for (const deadline = Date.now() + 5_000; ;) {
        if ((await advisoryLocks()).some((lock) => !lock.granted)) break;
        if (Date.now() > deadline) throw new Error('withTransaction never waited for the lock');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
      holder.release();
    }
    await expect(running).rejects.toThrow('rolled back');
    expect(await values()).toEqual([]);
    expect(await advisoryLocks()).toEqual([]);
  });

  it('runs on a connection the caller holds, and leaves it checked out and usable', async () => {
    await withClient(direct, async (client, discard) => {
      await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const inside = await withTransaction({ client, discard }, async (transaction) => {
        await transaction.query("INSERT INTO transaction_test VALUES ('held')");
        return (await transaction.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      });
      expect(inside).toBe(pid);
      // The session lock outlives the transaction, as the migration runner needs.
      expect(await advisoryLocks()).toEqual([{ granted: true }]);
      await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    });
    expect(await values()).toEqual(['held']);
  });

  it('refuses bad options, naming what it expects, before taking a connection', async () => {
    const { pool, sent, end } = recordingPool();
    const work = async () => 'ran';
    try {
      await expect(withTransaction(pool, { statementTimeoutMs: -1 }, work)).rejects.toThrow(
        'withTransaction: statementTimeoutMs is a whole number of milliseconds, 0 for none (got -1)',
      );
      await expect(withTransaction(pool, { workMem: '64 megabytes' }, work)).rejects.toThrow(
        `withTransaction: work_mem is an amount of memory such as '64MB' (got "64 megabytes")`,
      );
      await expect(withTransaction(pool, { locks: [{ key: 1.5, wait: 'block' }] }, work)).rejects.toThrow(
        `withTransaction: a lock is { key: integer, wait: 'block' | 'try' } (got {"key":1.5,"wait":"block"})`,
      );
      expect(sent).toEqual([]);
    } finally {
      await end();
    }
  });
});
