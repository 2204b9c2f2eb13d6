// searchMessages without GraphQL: what it accepts, how it runs, what a page
// holds. The resolver (resolvers.ts) reads the arguments and calls this.
import type { Queryable } from '../../db/pool.js';
import { BadUserInputError, NotFoundError } from '../../graphql/errors.js';
import { toGlobalId } from '../../graphql/relay/global-id.js';
import { authorOfRow, messageOfRow } from '../messages/sql.js';
import type { Keyset } from '../../graphql/relay/cursor.js';
import { encodeSearchCursor, type RankingWindow, type SearchCursor, type SearchOrder } from './cursor.js';
import { chooseStrategy, type SearchEstimates, type SearchStrategy } from './plan.js';
import type { SearchPage, SearchResultRow } from './rows.js';
import { findNewestPage, findRankedPage, findSearchScope, type SearchMatchRow, type SearchScopeRow } from './sql.js';
import { estimateMatchShare, matchesWithoutAnyWord, parseTsquery, type TsqueryNode } from './tsquery.js';

/** The longest query accepted, in characters (code points): a long sentence, far more than anyone types into a search box. */
export const MAX_QUERY_LENGTH = 256;

/**
 * How many matches RELEVANCE ranks: the newest this many. Ranking every
 * match would read every match, and a word in a third of the messages is in
 * hundreds of thousands; the newest thousand of them are found by walking
 * back from now and stop there (bench/search.ts). Matrix Synapse ranks 500.
 */
export const RANKED_MATCHES = 1000;

/**
 * How many of the viewer's messages a ranking's walk reads at most. Finding
 * the newest thousand matches of a word in 3 % of the messages means
 * reading 33,000 messages of a viewer's, or every match in the table: over
 * 100 ms either way for the heaviest viewer at 1M (bench/search.ts). A
 * ranking of a word that is not rare (the index finds its every match for
 * less) ranks the matches among the viewer's newest this many messages: a
 * word in 12 % of the messages ranks about 600, one in 3 % about 150. Only
 * viewers with more messages than this are cut: the median user at 5M
 * messages sees 191. 10,000 cost twice as much (40-70 against 90-170 ms,
 * the dearest cells on this loaded machine).
 */
export const RANKING_EXAMINED = 5_000;

/** A search's query as searched: trimmed, 1 to MAX_QUERY_LENGTH characters; else BAD_USER_INPUT naming `argument`. */
export function normalizeSearchQuery(query: string, argument = 'query'): string {
  const trimmed = query.trim();
  if (trimmed === '') throw new BadUserInputError(`${argument}: type a word to search for (the query is empty)`, argument);
  const length = [...trimmed].length;
  if (length > MAX_QUERY_LENGTH) throw new BadUserInputError(`${argument}: at most ${MAX_QUERY_LENGTH} characters (got ${length})`, argument);
  return trimmed;
}

export interface SearchRequest {
  viewerId: number;
  /** The query, normalized (normalizeSearchQuery). */
  query: string;
  /** Only this conversation: NOT_FOUND unless the viewer takes part in it. */
  conversationId: number | null;
  order: SearchOrder;
  /** Results per page, 0 to 100. */
  size: number;
  /** Where the previous page ended, of the same order. */
  after: SearchCursor | null;
  /** Runs the page with this strategy instead of the one plan.ts chooses (tests and the benchmark compare them). */
  strategy?: SearchStrategy;
  /** How many matches RELEVANCE ranks, and how many messages its walk reads; default RANKED_MATCHES and RANKING_EXAMINED (tests use small ones). */
  window?: { matches: number; examined: number };
}

/** What a search did besides its page: the strategy it ran, and why (for the benchmark and tests). */
export interface SearchOutcome {
  page: SearchPage;
  strategy: SearchStrategy | null;
  estimates: SearchEstimates | null;
}

/**
 * A page of the viewer's messages matching the query, in two statements:
 * the scope (findSearchScope), then the page by the strategy the estimates
 * make cheapest (plan.ts). NOT_FOUND for a conversation the viewer does
 * not take part in, exactly as for one that does not exist (the message of
 * conversations/visible.ts); BAD_USER_INPUT when the query holds no
 * searchable word, or only exclusions.
 */
export async function searchMessages(db: Queryable, request: SearchRequest): Promise<SearchOutcome> {
  const scope = await findSearchScope(db, request.viewerId, request.query, request.conversationId);
  // The scope holds the conversation only for a participant: to anyone else it does not exist.
  if (request.conversationId !== null && scope.conversationIds.length === 0) {
    throw new NotFoundError('Conversation', toGlobalId('Conversation', request.conversationId));
  }
  const tree = searchableTree(scope.tsquery);
  if (scope.conversationIds.length === 0) return { page: emptyPage(), strategy: null, estimates: null };
  const ranking = request.window ?? { matches: RANKED_MATCHES, examined: RANKING_EXAMINED };
  const estimates = request.order === 'NEWEST' ? estimatesOf(scope, tree, request.size + 1, null) : estimatesOf(scope, tree, ranking.matches, ranking.examined);
  const strategy = request.strategy ?? chooseStrategy(estimates);
  const page = request.order === 'NEWEST' ? await newestPage(db, strategy, request, scope) : await rankedPage(db, strategy, request, scope, ranking);
  return { page, strategy, estimates };
}

/** The query's tree, or BAD_USER_INPUT saying why there is nothing to search for. */
function searchableTree(tsquery: string): TsqueryNode {
  const tree = parseTsquery(tsquery);
  if (!tree) {
    throw new BadUserInputError(
      'query: no word to search for: it holds only words too common to be searched (such as "the", "and", "of") or no word at all',
      'query',
    );
  }
  if (matchesWithoutAnyWord(tree)) {
    throw new BadUserInputError('query: add a word to search for; a query of exclusions only (-word) would match nearly every message', 'query');
  }
  return tree;
}

function estimatesOf(scope: SearchScopeRow, tree: TsqueryNode, needed: number, walkLimit: number | null): SearchEstimates {
  const frequencies =
    scope.minimumWordFrequency === null ? null : { of: new Map(Object.entries(scope.wordFrequencies ?? {})), minimum: scope.minimumWordFrequency };
  const messages = scope.messages ?? 0;
  return {
    messages,
    visibleMessages: scope.visibleMessages ?? messages,
    conversations: scope.conversationIds.length,
    matchShare: estimateMatchShare(tree, frequencies),
    needed,
    walkLimit,
  };
}

const emptyPage = (): SearchPage => ({ rows: [], hasNextPage: false, hasPreviousPage: false, cursorOf: () => '' });

const keysetOf = (row: SearchMatchRow): Keyset => ({ at: row.createdAt, id: row.id });

/** A found message as the resolvers read it: the message with its author, and its headline. */
function resultOf(row: SearchMatchRow): SearchResultRow {
  return { ...messageOfRow(row, authorOfRow(row)), headline: row.headline };
}

async function newestPage(db: Queryable, strategy: SearchStrategy, request: SearchRequest, scope: SearchScopeRow): Promise<SearchPage> {
  const after = request.after?.order === 'NEWEST' ? request.after.keyset : null;
  const rows = await findNewestPage(db, strategy, { query: request.query, conversationIds: scope.conversationIds, after, limit: request.size + 1 });
  const keysets = new Map(rows.map((row) => [row.id, keysetOf(row)]));
  return {
    rows: rows.slice(0, request.size).map(resultOf),
    hasNextPage: rows.length > request.size,
    hasPreviousPage: after !== null,
    cursorOf: (row) => encodeSearchCursor({ order: 'NEWEST', keyset: keysets.get(row.id)! }),
  };
}

async function rankedPage(
  db: Queryable,
  strategy: SearchStrategy,
  request: SearchRequest,
  scope: SearchScopeRow,
  ranking: { matches: number; examined: number },
): Promise<SearchPage> {
  const after = request.after?.order === 'RELEVANCE' ? request.after : null;
  const rows = await findRankedPage(db, strategy, {
    query: request.query,
    conversationIds: scope.conversationIds,
    size: ranking.matches,
    walkLimit: ranking.examined,
    after,
    limit: request.size + 1,
  });
  // The ranking's window, fixed by the first page: from its oldest match to
  // its newest, so later pages rank the same matches whatever is sent or
  // edited meanwhile (nothing older than the oldest was ranked, whether the
  // ranking was cut there or no older match exists).
  const first = rows[0];
  const window: RankingWindow | undefined =
    after?.window ??
    (first && { top: { at: first.newestCandidateAt, id: first.newestCandidateId }, floor: { at: first.oldestCandidateAt, id: first.oldestCandidateId } });
  const positions = new Map(rows.map((row) => [row.id, { rank: row.rank, keyset: keysetOf(row) }]));
  return {
    rows: rows.slice(0, request.size).map(resultOf),
    hasNextPage: rows.length > request.size,
    hasPreviousPage: after !== null,
    cursorOf: (row) => encodeSearchCursor({ order: 'RELEVANCE', ...positions.get(row.id)!, window: window! }),
  };
}
