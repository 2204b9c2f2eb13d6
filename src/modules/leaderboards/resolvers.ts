import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../relay/page-arguments.js';
import { BadUserInputError } from '../../http/errors.js';
import { decodeLeaderboardCursor, encodeLeaderboardCursor } from './cursor.js';
import { leaderboardColumn } from './metrics.js';
import type { LeaderboardPage } from './rows.js';
import { findLeaderboardEntry, findLeaderboardPage, findStatsRefreshedAt } from './sql.js';

export const leaderboardResolvers: Resolvers = {
  Query: {
    leaderboard: async (_parent, { metric, period, first, after }, { db, viewer }): Promise<LeaderboardPage> => {
      const column = leaderboardColumn(metric, period ?? 'ALL_TIME');
      const size = first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
        throw new BadUserInputError(`first: expected a whole number from 0 to ${MAX_PAGE_SIZE} (got ${size})`, 'first');
      }
      const cursor = after != null ? decodeLeaderboardCursor(column, after, 'after') : null;
      const rows = await findLeaderboardPage(db.pool, column, { size, after: cursor });
      const entries = rows.slice(0, size).map(({ refreshedAt: _refreshedAt, ...entry }) => entry);
      return {
        entries,
        hasNextPage: rows.length > size,
        hasPreviousPage: cursor !== null,
        cursorOf: (entry) => encodeLeaderboardCursor(column, entry),
        viewerEntry: async () => (viewer ? findLeaderboardEntry(db.pool, column, viewer.id) : null),
        refreshedAt: async () => rows[0]?.refreshedAt ?? findStatsRefreshedAt(db.pool),
      };
    },
  },

  LeaderboardConnection: {
    edges: (page) => page.entries.map((entry) => ({ cursor: page.cursorOf(entry), node: entry })),
    pageInfo: (page) => ({
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.entries.length > 0 ? page.cursorOf(page.entries[0]!) : null,
      endCursor: page.entries.length > 0 ? page.cursorOf(page.entries[page.entries.length - 1]!) : null,
    }),
    viewerEntry: (page) => page.viewerEntry(),
    refreshedAt: (page) => page.refreshedAt(),
  },

  LeaderboardEntry: {
    user: async (entry, _args, { loaders }) => {
      const user = await loaders.userById.load(entry.userId);
      // The view's rows come from users: a missing one is a broken invariant, not a client error.
      if (!user) throw new Error(`leaderboard entry for missing user ${entry.userId}`);
      return user;
    },
  },
};
