// Internal: the users domain's SQL. Each function takes the database first.
import type { Queryable } from '../../db/pool.js';
import { STATS_REFRESHED_AT_SQL } from '../../db/stats-views.js';
import type { UserRow, UserStatsRow } from './rows.js';

/**
 * The columns of a UserRow from the users table under `alias`, each named
 * `<prefix><field>`: statements that join a user to other rows (a message's
 * author) select them with a prefix and read them back field by field
 * (messages/sql.ts authorOfRow).
 */
export function userColumns(alias: string, prefix = ''): string {
  const fields: [string, keyof UserRow][] = [
    ['id', 'id'],
    ['username', 'username'],
    ['display_name', 'displayName'],
    ['email', 'email'],
    ['avatar_url', 'avatarUrl'],
    ['level', 'level'],
    ['xp', 'xp'],
    ['created_at', 'createdAt'],
    ['last_active_at', 'lastActiveAt'],
  ];
  return fields.map(([column, field]) => `${alias}.${column} AS "${prefix}${field}"`).join(', ');
}

/** The UserRow of a row that selected userColumns(alias) with other columns beside (a participant's conversation): its fields alone, in one object. */
export function userOfRow(row: UserRow): UserRow {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    email: row.email,
    avatarUrl: row.avatarUrl,
    level: row.level,
    xp: row.xp,
    createdAt: row.createdAt,
    lastActiveAt: row.lastActiveAt,
  };
}

/** The UserRow of a row read as an array (pg's rowMode 'array') whose columns from `start` are userColumns's, in its order. */
export function userOfColumns(row: readonly unknown[], start: number): UserRow {
  return {
    id: row[start] as number,
    username: row[start + 1] as string,
    displayName: row[start + 2] as string,
    email: row[start + 3] as string,
    avatarUrl: row[start + 4] as string | null,
    level: row[start + 5] as number,
    xp: row[start + 6] as number,
    createdAt: row[start + 7] as Date,
    lastActiveAt: row[start + 8] as Date | null,
  };
}

const USER_COLUMNS = userColumns('users');

export async function findUsersByIds(db: Queryable, ids: readonly number[]): Promise<UserRow[]> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::int[])`, [ids]);
  return rows;
}

export async function findUserByUsername(db: Queryable, username: string): Promise<UserRow | null> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE username = lower($1)`, [username]);
  return rows[0] ?? null;
}

/**
 * Statistics rows by user (user_stats_summary's unique user_id index), each
 * with the time of the refresh that computed them: the view keeps no such
 * column (it would change every row at every refresh), the refresh log does.
 */
export async function findStatsByUserIds(db: Queryable, ids: readonly number[]): Promise<UserStatsRow[]> {
  const { rows } = await db.query<UserStatsRow>(
    `SELECT user_id AS "userId", total_messages AS "totalMessages", messages_7d AS "messages7d",
            messages_30d AS "messages30d", xp, xp_7d AS "xp7d", xp_30d AS "xp30d", level,
            current_streak AS "currentStreak", max_streak AS "maxStreak",
            last_activity_at AS "lastActivityAt", ${STATS_REFRESHED_AT_SQL} AS "refreshedAt"
     FROM user_stats_summary WHERE user_id = ANY($1::int[])`,
    [ids],
  );
  return rows;
}
