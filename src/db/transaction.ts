import type pg from 'pg';
import { withClient } from './pool.js';

/**
 * Runs `work` in a transaction on one pooled connection: COMMIT when it
 * resolves, ROLLBACK when it throws, so a failed write leaves nothing behind.
 */
export async function withTransaction<T>(pool: Pick<pg.Pool, 'connect'>, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withClient(pool, async (client, discard) => {
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      // A connection that cannot roll back may still be inside the failed
      // transaction: it must not serve the next request.
      await client.query('ROLLBACK').catch(discard);
      throw error;
    }
  });
}
