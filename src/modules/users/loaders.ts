import DataLoader from 'dataloader';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { orderByKeys } from '../../graphql/relay/order-by-keys.js';
import type { UserRow, UserStatsRow } from './rows.js';
import { findStatsByUserIds, findUsersByIds } from './sql.js';

export function createUserLoaders({ pool, batch, traced }: LoaderDependencies) {
  return {
    /** users by id; null for an unknown id. Other loaders prime it with users they already read. */
    userById: new DataLoader<number, UserRow | null>(
      traced('userById', async (ids) => orderByKeys(ids, await findUsersByIds(pool, ids), (row) => row.id)),
      { batch },
    ),
    /** user_stats_summary rows by user id; null for a user the view has not seen yet (created since its last refresh). */
    statsByUser: new DataLoader<number, UserStatsRow | null>(
      traced('statsByUser', async (ids) => orderByKeys(ids, await findStatsByUserIds(pool, ids), (row) => row.userId)),
      { batch },
    ),
  };
}
