import type pg from 'pg';

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it
 * resolves, ROLLBACK when it throws, so a failed write leaves nothing behind.
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
