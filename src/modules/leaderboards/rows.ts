// Rows of the leaderboards domain; the GraphQL mappers in codegen.ts tie
// LeaderboardEntry and LeaderboardConnection to them.

export interface LeaderboardEntryRow {
  userId: number;
  value: number;
  rank: number;
}

/** A page of a leaderboard on its way to a LeaderboardConnection. */
export interface LeaderboardPage {
  entries: LeaderboardEntryRow[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf(entry: LeaderboardEntryRow): string;
  /** The signed-in user's entry, read only when the query asks for it. */
  viewerEntry(): Promise<LeaderboardEntryRow | null>;
  refreshedAt(): Promise<Date | null>;
}
