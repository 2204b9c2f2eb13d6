// The users domain's fields in compiled reads (graphql/sql-reads/): each
// written as its resolver answers it (resolvers.ts).
import { STATS_REFRESHED_AT_SQL } from '../../db/stats-views.js';
import type { SqlFields, SqlTags } from '../../graphql/sql-reads/compile.js';
import { globalIdSql, intSql, isoSql, nullableSql, stringSql } from '../../graphql/sql-reads/values.js';

export const userSqlFields: SqlFields = {
  Query: {
    // Only compiled with a viewer: theirs, null once deleted.
    viewer: (_row, field, scope) => {
      const u = scope.alias('viewer');
      return nullableSql(`SELECT ${scope.object('User', field, u, { viewerRow: true })} FROM users ${u} WHERE ${u}.id = ${scope.viewerId}`);
    },
  },
  User: {
    id: (u) => globalIdSql('User', `${u}.id`),
    username: (u) => stringSql(`${u}.username`),
    displayName: (u) => stringSql(`${u}.display_name`),
    // Private: its owner sees it, nobody else does.
    email: (u, _field, scope) => stringSql(`CASE WHEN ${u}.id = ${scope.viewerId} THEN ${u}.email END`),
    avatarUrl: (u) => stringSql(`${u}.avatar_url`),
    level: (u) => intSql(`${u}.level`),
    xp: (u) => intSql(`${u}.xp`),
    createdAt: (u) => isoSql(`${u}.created_at`),
    lastActiveAt: (u) => isoSql(`${u}.last_active_at`),
    // Null until the statistics have been computed for the user.
    stats: (u, field, scope) => {
      const s = scope.alias('stats');
      return nullableSql(`SELECT ${scope.object('UserStats', field, s)} FROM user_stats_summary ${s} WHERE ${s}.user_id = ${u}.id`);
    },
  },
  UserStats: {
    id: (s) => globalIdSql('UserStats', `${s}.user_id`),
    totalMessages: (s) => intSql(`${s}.total_messages`),
    messagesLast7Days: (s) => intSql(`${s}.messages_7d`),
    messagesLast30Days: (s) => intSql(`${s}.messages_30d`),
    currentStreak: (s) => intSql(`${s}.current_streak`),
    maxStreak: (s) => intSql(`${s}.max_streak`),
    lastActivityAt: (s) => isoSql(`${s}.last_activity_at`),
    refreshedAt: () => isoSql(STATS_REFRESHED_AT_SQL),
  },
};

/** The tags of users and statistics inside a compiled read's parts, as writes name them (writes/tags.ts: tags.user, tags.stats). */
export const userSqlTags: SqlTags = {
  User: (u) => `'User:' || ${u}.id`,
  UserStats: () => `'Stats'`,
};
