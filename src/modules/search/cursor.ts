import { BadUserInputError } from '../../graphql/errors.js';
import { parseKeyset, type Keyset } from '../../graphql/relay/cursor.js';

/** The orders of searchMessages (MessageSearchOrder). */
export type SearchOrder = 'RELEVANCE' | 'NEWEST';

/**
 * Where a page of search results ends, to read on from it. Cursors are
 * opaque to clients (base64url); a cursor of one order is refused by the
 * other, and one that does not decode is bad input, never a server error.
 */
export type SearchCursor =
  /** Newest first: the (created_at, id) keyset of the last message read. */
  | { order: 'NEWEST'; keyset: Keyset }
  /**
   * Best first: the last message's rank (as PostgreSQL printed the real, so
   * it compares equal to itself when computed again), its keyset, and the
   * ranking's window, fixed by the first page so that later pages rank the
   * same matches: its newest match (the top) and its oldest (the floor).
   */
  | { order: 'RELEVANCE'; rank: string; keyset: Keyset; window: RankingWindow };

/** The matches a ranking covers: those from `floor` to `top`, both included. */
export interface RankingWindow {
  top: Keyset;
  floor: Keyset;
}

const printKeyset = (keyset: Keyset) => `${keyset.at.toISOString()}|${keyset.id}`;

export function encodeSearchCursor(cursor: SearchCursor): string {
  const text =
    cursor.order === 'NEWEST'
      ? `newest|${printKeyset(cursor.keyset)}`
      : `relevance|${cursor.rank}|${printKeyset(cursor.keyset)}|${printKeyset(cursor.window.top)}|${printKeyset(cursor.window.floor)}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

// A rank as PostgreSQL prints a non-negative real: "0", "0.0607927", "1.5e-05".
const RANK = /^(?:0|[1-9]\d*)(?:\.\d+)?(?:e[-+]\d+)?$/;

/** The cursor a searchMessages page gave for `order`, or BAD_USER_INPUT naming `argument`. */
export function decodeSearchCursor(cursor: string, order: SearchOrder, argument: string): SearchCursor {
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const decoded = decodeParts(parts);
  // The one spelling encodeSearchCursor gives (base64url decoding tolerates others).
  if (!decoded || encodeSearchCursor(decoded) !== cursor) throw new BadUserInputError(`${argument}: not a cursor this API issued`, argument);
  if (decoded.order !== order) {
    throw new BadUserInputError(
      `${argument}: a cursor of a search ordered by ${decoded.order}; pass orderBy: ${decoded.order} with it, or start again without it`,
      argument,
    );
  }
  return decoded;
}

function decodeParts(parts: string[]): SearchCursor | undefined {
  if (parts[0] === 'newest' && parts.length === 3) {
    const keyset = parseKeyset(parts[1], parts[2]);
    return keyset && { order: 'NEWEST', keyset };
  }
  if (parts[0] === 'relevance' && parts.length === 8) {
    const [, rank, at, id, topAt, topId, floorAt, floorId] = parts as [string, string, string, string, string, string, string, string];
    const keyset = parseKeyset(at, id);
    const top = parseKeyset(topAt, topId);
    const floor = parseKeyset(floorAt, floorId);
    if (!RANK.test(rank) || !Number.isFinite(Number(rank)) || !keyset || !top || !floor) return undefined;
    return { order: 'RELEVANCE', rank, keyset, window: { top, floor } };
  }
  return undefined;
}
