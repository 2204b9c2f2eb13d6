// Rows of the leaderboards domain; the GraphQL mappers in codegen.ts tie
// LeaderboardEntry and LeaderboardConnection to them.
import type { PageOfRows } from '../../graphql/relay/connection.js';

export interface LeaderboardEntryRow {
  userId: number;
  value: number;
  rank: number;
}

/** A page of a leaderboard on its way to a LeaderboardConnection. */
export interface LeaderboardPage extends PageOfRows<LeaderboardEntryRow> {
  /** The signed-in user's entry, read (with the page) only when the query asks for it. */
  viewerEntry: LeaderboardEntryRow | null;
  refreshedAt(): Promise<Date | null>;
}
