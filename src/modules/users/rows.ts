// Rows of the users domain as its SQL returns them (columns aliased to
// camelCase); the GraphQL mappers in codegen.ts tie User and UserStats to them.

export interface UserRow {
  id: number;
  username: string;
  displayName: string;
  /** Private: exposed to its owner only. */
  email: string;
  avatarUrl: string | null;
  level: number;
  xp: number;
  createdAt: Date;
  lastActiveAt: Date | null;
}

/** A row of the user_stats_summary materialized view, with the time of the refresh that computed it. */
export interface UserStatsRow {
  userId: number;
  totalMessages: number;
  messages7d: number;
  messages30d: number;
  xp: number;
  xp7d: number;
  xp30d: number;
  level: number;
  currentStreak: number;
  maxStreak: number;
  lastActivityAt: Date | null;
  /**
   * The start of the latest successful refresh. Never null where a row
   * exists: every path that fills the view records its refresh (the
   * migration that created it, the seed, the job, npm run db:refresh).
   */
  refreshedAt: Date;
}
