// Internal: the search domain's SQL. Two statements per search: what the
// search covers and what the statistics expect of it (findSearchScope), then
// the page, by the strategy plan.ts chose from that (findNewestPage,
// findRankedPage). The query text is always a parameter, read by
// websearch_to_tsquery('english', …): quotes, `or` and `-word` as users
// type them, and no character of it is SQL or tsquery syntax.
import type { Queryable } from '../../db/pool.js';
import type { Keyset } from '../../graphql/relay/cursor.js';
import type { RankingWindow } from './cursor.js';
import { AUTHOR_PREFIX, type MessageWithAuthorRow } from '../messages/sql.js';
import { userColumns } from '../users/sql.js';
import { MATCH_END, MATCH_START } from './highlight.js';
import type { SearchStrategy } from './plan.js';

/** The query, as every statement here reads it. */
const QUERY = `websearch_to_tsquery('english', $1)`;

/** What findSearchScope found: the conversations to search, and the statistics' view of the query and of them. */
export interface SearchScopeRow {
  /** The query as PostgreSQL parsed it, printed ('' when it holds no searchable word). */
  tsquery: string;
  /** The viewer's conversations (or the one asked for, when the viewer takes part), ascending. */
  conversationIds: number[];
  /** Rows in messages, as the statistics count them; null before the table was ever analyzed. */
  messages: number | null;
  /** Of those, in conversationIds (estimated from the per-conversation statistics); null without them. */
  visibleMessages: number | null;
  /** The share of messages holding each of the query's words that the statistics track. */
  wordFrequencies: Record<string, number> | null;
  /** The smallest share the statistics track (any other word is rarer); null without statistics. */
  minimumWordFrequency: number | null;
}

/**
 * What a search of `query` by `viewerId` covers, in one statement: the
 * viewer's conversations (only `conversationId` when given, and none when
 * the viewer is not in it), the query as PostgreSQL parses it, and what the
 * planner's statistics (pg_stats, pg_class) say of both: how many messages
 * those conversations hold and how common the query's words are. plan.ts
 * chooses the page's strategy from them. Reads the participants by
 * conversation_participants (user_id, conversation_id).
 */
export async function findSearchScope(db: Queryable, viewerId: number, query: string, conversationId: number | null): Promise<SearchScopeRow> {
  const { rows } = await db.query<SearchScopeRow>(
    `WITH scope AS (
       SELECT coalesce(array_agg(p.conversation_id ORDER BY p.conversation_id), '{}') AS ids
       FROM conversation_participants p
       WHERE p.user_id = $2 AND ($3::int IS NULL OR p.conversation_id = $3::int)
     ),
     size AS (
       SELECT nullif(c.reltuples, -1)::float8 AS rows FROM pg_class c WHERE c.oid = 'messages'::regclass
     ),
     word_stats AS (
       SELECT s.most_common_elems::text::text[] AS words, s.most_common_elem_freqs AS shares
       FROM pg_stats s
       WHERE s.schemaname = current_schema() AND s.tablename = 'messages' AND s.attname = 'search_vector'
     ),
     -- The most common conversations' shares of the messages, and the
     -- share of each other one: what is left, spread evenly.
     conversation_stats AS MATERIALIZED (
       SELECT common.ids, common.shares,
              (1 - (SELECT coalesce(sum(share), 0) FROM unnest(common.shares) AS share)) / greatest(1, common.distinct_ids - cardinality(common.ids)) AS other_share
       FROM (
         SELECT coalesce(s.most_common_vals::text::int[], '{}') AS ids, coalesce(s.most_common_freqs, '{}') AS shares,
                CASE WHEN s.n_distinct >= 0 THEN s.n_distinct ELSE -s.n_distinct * size.rows END AS distinct_ids
         FROM pg_stats s, size
         WHERE s.schemaname = current_schema() AND s.tablename = 'messages' AND s.attname = 'conversation_id'
       ) common
     ),
     -- The query's words, from its printed form: 'word' with '' for a quote and \\ escaping.
     query_words AS (
       SELECT DISTINCT regexp_replace(found[1], $re$\\\\(.)|'(')$re$, '\\1\\2', 'g') AS word
       FROM regexp_matches(${QUERY}::text, $re$'((?:[^'\\\\]|''|\\\\.)*)'$re$, 'g') AS found
     )
     SELECT ${QUERY}::text AS tsquery,
            scope.ids AS "conversationIds",
            (SELECT rows FROM size) AS messages,
            (SELECT sum(coalesce(common.share, stats.other_share)) * (SELECT rows FROM size)
             FROM conversation_stats stats
             CROSS JOIN unnest(scope.ids) AS searched(id)
             LEFT JOIN unnest(stats.ids, stats.shares) AS common(id, share) ON common.id = searched.id
            ) AS "visibleMessages",
            (SELECT json_object_agg(tracked.word, tracked.share)
             FROM word_stats stats, unnest(stats.words, stats.shares[1:cardinality(stats.words)]) AS tracked(word, share)
             WHERE tracked.word IN (SELECT word FROM query_words)
            ) AS "wordFrequencies",
            -- most_common_elem_freqs ends with the minimum, the maximum and the share of nulls.
            (SELECT stats.shares[cardinality(stats.words) + 1] FROM word_stats stats) AS "minimumWordFrequency"
     FROM scope`,
    [query, viewerId, conversationId],
  );
  return rows[0]!;
}

/** A message found, with its author (as the history's rows) and its headline (highlight.ts). */
export type SearchMatchRow = MessageWithAuthorRow & {
  /** ts_headline's copy of the body, matches between MATCH_START and MATCH_END; null when the body holds a marker itself. */
  headline: string | null;
};

/** A ranked match: its rank as PostgreSQL printed the real, and the ends of the matches ranked. */
export type RankedMatchRow = SearchMatchRow & {
  rank: string;
  newestCandidateAt: Date;
  newestCandidateId: string;
  oldestCandidateAt: Date;
  oldestCandidateId: string;
};

/** Bounds of the matches a strategy reads, newest first. */
interface MatchBounds {
  /** Only matches older than this keyset (a NEWEST page's cursor). */
  before: Keyset | null;
  /** Only matches not older than this keyset (the floor of a ranking). */
  floor: Keyset | null;
  /** At most this many matches; null for all within the bounds. */
  limit: number | null;
  /** The timeline reads at most this many of the viewer's messages (a ranking's); null: until it has `limit` matches. */
  walkLimit: number | null;
}

// $1 the query, $2 the conversations, $3 and $4 `before`, $5 and $6 `floor`, $7 the limit, $8 the timeline's walk limit.
const boundsValues = (bounds: MatchBounds) => [
  bounds.before?.at ?? null,
  bounds.before?.id ?? null,
  bounds.floor?.at ?? null,
  bounds.floor?.id ?? null,
  bounds.limit,
  bounds.walkLimit,
];

const MATCH_COLUMNS = 'm.id, m.conversation_id, m.author_id, m.body, m.created_at, m.edited_at, m.search_vector';

const withinBounds = (alias: string) => `
  ($3::timestamptz IS NULL OR (${alias}.created_at, ${alias}.id) < ($3::timestamptz, $4::bigint))
  AND ($5::timestamptz IS NULL OR (${alias}.created_at, ${alias}.id) >= ($5::timestamptz, $6::bigint))`;

/**
 * The matches of the query in the conversations searched, newest first,
 * within MatchBounds, by one strategy (plan.ts says when each is cheap):
 *
 * - index: the GIN index messages (search_vector) finds every match; the
 *   conversation is checked on each, then they are sorted. Materialized, so
 *   that the ORDER BY … LIMIT cannot turn it into a walk of the timeline.
 * - timeline: messages (created_at DESC, id DESC) INCLUDE (conversation_id)
 *   walked from the newest (or from the cursor) as an index-only scan that
 *   drops other conversations' messages on the index page, each message of
 *   the viewer's then read by its primary key and matched, until the limit,
 *   or until it has read the walk's limit of the viewer's messages (a
 *   ranking's).
 * - conversations: in each conversation searched, its history by
 *   messages (conversation_id, created_at DESC, id DESC), matched until the
 *   limit, then the newest of all.
 *
 * `conversation_id + 0` keeps the index and timeline strategies off the
 * history index (a descent per conversation: 28 ms for 2,839), and
 * `(… @@ …) IS TRUE` keeps the walks off the GIN index (which would read
 * every match of the query for each message or conversation walked); both
 * mean the same as without. `OFFSET 0` keeps the timeline's probe a probe:
 * flattened into a join, a walk without a limit (a ranking's later pages,
 * bounded by its floor) was planned as a hash join reading messages whole.
 */
function matchesOf(strategy: SearchStrategy): string {
  switch (strategy) {
    // $8, the walk's limit, is the timeline's: the others check it is an
    // integer, so that every statement has the same parameters.
    case 'index':
      return `
        WITH matches AS MATERIALIZED (
          SELECT ${MATCH_COLUMNS} FROM messages m
          WHERE m.search_vector @@ ${QUERY} AND m.conversation_id + 0 = ANY($2::int[]) AND ${withinBounds('m')}
            AND ($8::int IS NULL OR true)
        )
        SELECT * FROM matches ORDER BY created_at DESC, id DESC LIMIT $7::int`;
    case 'timeline':
      // Read lazily (referenced once): the walk stops when the limit of matches is reached.
      return `
        WITH walk AS (
          SELECT t.id, t.created_at FROM messages t
          WHERE t.conversation_id + 0 = ANY($2::int[]) AND ${withinBounds('t')}
          ORDER BY t.created_at DESC, t.id DESC
          LIMIT $8::int
        )
        SELECT m.*
        FROM walk
        CROSS JOIN LATERAL (
          SELECT ${MATCH_COLUMNS} FROM messages m WHERE m.id = walk.id AND (m.search_vector @@ ${QUERY}) IS TRUE
          OFFSET 0
        ) m
        ORDER BY walk.created_at DESC, walk.id DESC
        LIMIT $7::int`;
    case 'conversations':
      return `
        SELECT found.* FROM unnest($2::int[]) AS searched(id)
        CROSS JOIN LATERAL (
          SELECT ${MATCH_COLUMNS} FROM messages m
          WHERE m.conversation_id = searched.id AND (m.search_vector @@ ${QUERY}) IS TRUE AND ${withinBounds('m')}
            AND ($8::int IS NULL OR true)
          ORDER BY m.created_at DESC, m.id DESC
          LIMIT $7::int
        ) found
        ORDER BY found.created_at DESC, found.id DESC
        LIMIT $7::int`;
  }
}

/** ts_headline's options: the whole body, each match between the markers (highlight.ts). */
const HEADLINE_OPTIONS = `StartSel="${MATCH_START}", StopSel="${MATCH_END}", HighlightAll=true`;

/** The columns of a SearchMatchRow from a page of matches aliased `page`, with its author `u`. */
const PAGE_COLUMNS = `
  page.id, page.conversation_id AS "conversationId", page.author_id AS "authorId", page.body,
  page.created_at AS "createdAt", page.edited_at AS "editedAt", ${userColumns('u', AUTHOR_PREFIX)},
  CASE WHEN strpos(page.body, '${MATCH_START}') > 0 OR strpos(page.body, '${MATCH_END}') > 0 THEN NULL
       ELSE ts_headline('english', page.body, ${QUERY}, '${HEADLINE_OPTIONS}') END AS headline`;

export interface NewestPageRequest {
  /** The query text, as searchMessages received it (trimmed). */
  query: string;
  conversationIds: readonly number[];
  /** The last message of the previous page. */
  after: Keyset | null;
  /** Rows wanted: the page size and one more, to tell whether another page follows. */
  limit: number;
}

/** The smallest keyset after `keyset` (the same instant, the next id): "older than it" includes `keyset` itself. */
const justAfter = (keyset: Keyset): Keyset => ({ at: keyset.at, id: (BigInt(keyset.id) + 1n).toString() });

/**
 * A page of matches, newest first: `limit` matches older than `after`, by
 * `strategy` (matchesOf), with their authors and headlines (ts_headline
 * reads only the page's bodies).
 */
export async function findNewestPage(db: Queryable, strategy: SearchStrategy, request: NewestPageRequest): Promise<SearchMatchRow[]> {
  const { rows } = await db.query<SearchMatchRow>(
    `WITH page AS MATERIALIZED (${matchesOf(strategy)})
     SELECT ${PAGE_COLUMNS}
     FROM page JOIN users u ON u.id = page.author_id
     ORDER BY page.created_at DESC, page.id DESC`,
    [request.query, request.conversationIds, ...boundsValues({ before: request.after, floor: null, limit: request.limit, walkLimit: null })],
  );
  return rows;
}

export interface RankedPageRequest {
  query: string;
  conversationIds: readonly number[];
  /** How many matches a first page ranks (RANKED_MATCHES): the newest this many. */
  size: number;
  /** How many of the viewer's messages the timeline reads to find them (RANKING_EXAMINED). */
  walkLimit: number;
  /**
   * The last match of the previous page (its rank and keyset) and the
   * ranking's window the first page fixed; null for a first page, whose
   * window's ends come back in each row.
   */
  after: { rank: string; keyset: Keyset; window: RankingWindow } | null;
  /** Rows wanted: the page size and one more. */
  limit: number;
}

/**
 * A page of matches, best first: the ranking's candidates are the newest
 * `size` matches (a first page; by the timeline, only those among the
 * newest `walkLimit` messages it reads) or the matches of the window the
 * first page fixed (the pages after it: the same matches, none sent since),
 * found by `strategy` (matchesOf); each ranked by ts_rank_cd with length
 * normalization (1: a short message that is all about the words ranks above
 * a long one that mentions them), ties newest first; the page is the
 * `limit` after `after` in that order, with authors and headlines.
 *
 * A later page reads its window with a limit of twice its size: the window
 * held `size` matches, and only edits can add to it; without a limit the
 * planner priced the walk as a read of every message older than the top,
 * enough for PostgreSQL to compile the statement (JIT, 0.7 s).
 */
export async function findRankedPage(db: Queryable, strategy: SearchStrategy, request: RankedPageRequest): Promise<RankedMatchRow[]> {
  const window = request.after?.window;
  const bounds: MatchBounds = window
    ? { before: justAfter(window.top), floor: window.floor, limit: 2 * request.size, walkLimit: request.walkLimit }
    : { before: null, floor: null, limit: request.size, walkLimit: request.walkLimit };
  const { rows } = await db.query<RankedMatchRow>(
    `WITH candidates AS MATERIALIZED (${matchesOf(strategy)}),
     page AS MATERIALIZED (
       SELECT ranked.* FROM (
         SELECT c.*, ts_rank_cd(c.search_vector, ${QUERY}, 1) AS rank FROM candidates c
       ) ranked
       WHERE $9::real IS NULL OR (ranked.rank, ranked.created_at, ranked.id) < ($9::real, $10::timestamptz, $11::bigint)
       ORDER BY ranked.rank DESC, ranked.created_at DESC, ranked.id DESC
       LIMIT $12::int
     )
     SELECT ${PAGE_COLUMNS}, page.rank::text AS rank,
            newest.created_at AS "newestCandidateAt", newest.id AS "newestCandidateId",
            oldest.created_at AS "oldestCandidateAt", oldest.id AS "oldestCandidateId"
     FROM page
     JOIN users u ON u.id = page.author_id
     CROSS JOIN (SELECT c.created_at, c.id FROM candidates c ORDER BY c.created_at DESC, c.id DESC LIMIT 1) newest
     CROSS JOIN (SELECT c.created_at, c.id FROM candidates c ORDER BY c.created_at, c.id LIMIT 1) oldest
     ORDER BY page.rank DESC, page.created_at DESC, page.id DESC`,
    [
      request.query,
      request.conversationIds,
      ...boundsValues(bounds),
      request.after?.rank ?? null,
      request.after?.keyset.at ?? null,
      request.after?.keyset.id ?? null,
      request.limit,
    ],
  );
  return rows;
}
