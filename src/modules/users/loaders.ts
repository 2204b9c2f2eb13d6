import DataLoader from 'dataloader';
import type { LoaderDependencies } from '../loader-dependencies.js';
import { USERS, USERS_LOADER, type CachedBatches } from '../cached-batch.js';
import { orderByKeys } from '../../graphql/relay/order-by-keys.js';
import { tags } from '../../writes/tags.js';
import type { UserRow, UserStatsRow } from './rows.js';
import { findStatsByUserIds, findUsersByIds } from './sql.js';

export function createUserLoaders({ pool, batch, traced }: LoaderDependencies, cached: CachedBatches) {
  return {
    /** users by id; null for an unknown id. Other loaders prime it with users they already read. */
    userById: new DataLoader<number, UserRow | null>(
      cached(
        USERS_LOADER,
        USERS,
        traced(USERS_LOADER, async (ids) => orderByKeys(ids, await findUsersByIds(pool, ids), (row) => row.id)),
      ),
      { batch },
    ),
    /** user_stats_summary rows by user id; null for a user the view has not seen yet (created since its last refresh). */
    statsByUser: new DataLoader<number, UserStatsRow | null>(
      cached(
        'statsByUser',
        // The view changes at its refreshes only, each of which touches Stats.
        { scope: 'shared', key: String, keep: (row) => (row ? { kept: row, tags: [tags.stats()], users: [] } : undefined), restore: (row) => row },
        traced('statsByUser', async (ids) => orderByKeys(ids, await findStatsByUserIds(pool, ids), (row) => row.userId)),
      ),
      { batch },
    ),
  };
}
