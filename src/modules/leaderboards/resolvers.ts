import type { ListTags } from '../../cache/entity-tags.js';
import type { Resolvers } from '../../generated/graphql/resolvers.js';
import { connectionResolvers } from '../../graphql/relay/connection-resolvers.js';
import { parsePageSize } from '../../graphql/relay/page-arguments.js';
import { decodeLeaderboardCursor, encodeLeaderboardCursor } from './cursor.js';
import { leaderboardColumn } from './metrics.js';
import type { LeaderboardEntryRow, LeaderboardPage } from './rows.js';
import { selectsField } from './selects-field.js';
import { findLeaderboardPage, findStatsRefreshedAt } from './sql.js';
import { tags } from '../../writes/tags.js';

/** The tags of the lists this domain resolves (see ListTags): every leaderboard changes with a refresh of the statistics. */
export const leaderboardListTags: ListTags = {
  'Query.leaderboard': () => tags.leaderboard(),
};

// A leaderboard has no totalCount: only edges and pageInfo are shared with the other connections.
const leaderboardPageResolvers = connectionResolvers<LeaderboardEntryRow>();

export const leaderboardResolvers: Resolvers = {
  Query: {
    leaderboard: async (_parent, { metric, period, first, after }, { db, viewer }, info): Promise<LeaderboardPage> => {
      const column = leaderboardColumn(metric, period ?? 'ALL_TIME');
      const size = parsePageSize(first, 'first');
      const cursor = after != null ? decodeLeaderboardCursor(column, after, 'after') : null;
      const viewerId = viewer && selectsField(info, 'viewerEntry') ? viewer.id : null;
      const { entries, viewerEntry, refreshedAt } = await findLeaderboardPage(db.pool, column, { size, after: cursor, viewerId });
      return {
        rows: entries.slice(0, size),
        hasNextPage: entries.length > size,
        hasPreviousPage: cursor !== null,
        cursorOf: (entry) => encodeLeaderboardCursor(column, entry),
        viewerEntry,
        // The page's statement brought it along, unless it found no row at all.
        refreshedAt: async () => (refreshedAt !== undefined ? refreshedAt : findStatsRefreshedAt(db.pool)),
      };
    },
  },

  LeaderboardConnection: {
    edges: leaderboardPageResolvers.edges,
    pageInfo: leaderboardPageResolvers.pageInfo,
    viewerEntry: (page) => page.viewerEntry,
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
