// `npm run bench:search -- [--scales 1000000,5000000] [--requests N]` (--help for all):
// message search against its budget (docs/design.md: p95 ≤ 50 ms for any
// term and any viewer at 1M messages, ≤ 100 ms at 5M), through the API as a
// client sends it (the SearchMessages operation, the response cache off),
// on a grid of cells:
//
//   term    rare, medium and common words of the seeded data, a word in no
//           message, and a query matching about a third of the messages
//   viewer  the user in the most conversations and the median one
//   order   RELEVANCE and NEWEST
//   page    the first page (20 results), and the sixth (results 101-120,
//           after five pages read to get its cursor)
//
// For each cell: p50 and p95 of the requests (one client: the latency of
// one search, not a throughput), SQL statements per request, the strategy
// plan.ts chose, and, beside the first pages, what the plain statement
// costs (every match through the GIN index, then sorted or ranked: what
// search was before the strategies). Cells are measured in interleaved
// rounds, so a slow minute of this shared machine falls on all of them.
// Writes bench/results/<date>-search[-label].json and .md, with the EXPLAIN
// ANALYZE of the slowest cell's page statement.
//
// Each scale's database (parley_bench_search_<messages> on TEST_POSTGRES_URL's
// server, unless BENCH_DATABASE_URL) is created if missing, migrated, and
// seeded once (10,000 users, 50,000 conversations, seed 7: the inbox
// benchmark's data); later runs reuse it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { print } from 'graphql';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/app/create-app.js';
import { createPool } from '../src/db/pool.js';
import { SearchMessagesDocument } from '../src/generated/graphql/operations.js';
import { createServer } from '../src/http/server.js';
import { decodeSearchCursor, type SearchCursor, type SearchOrder } from '../src/modules/search/cursor.js';
import type { SearchStrategy } from '../src/modules/search/plan.js';
import { RANKED_MATCHES, searchMessages } from '../src/modules/search/search.js';
import { benchDatabaseUrl, createDatabaseIfMissing, findViewers, prepareBenchDatabase, type BenchViewer } from './database.js';
import { percentile } from './stats.js';
import { benchArguments } from './arguments.js';
import { writeResults } from './results-files.js';

const USAGE = `Usage: npm run bench:search -- [options]
  --scales LIST     message counts to measure, each on its own database (default 1000000,5000000)
  --requests N      timed requests per cell, over all rounds (default 30)
  --rounds N        interleaved rounds (default 3)
  --plain N         timed runs of the plain statement per first-page cell, 0 to skip (default 3)
  --label TEXT      appended to the results' file names
Budgets: p95 ≤ 50 ms per cell at 1M messages, ≤ 100 ms at 5M.`;

const { values, whole, list } = benchArguments(USAGE, {
  scales: { type: 'string', default: '1000000,5000000' },
  requests: { type: 'string', default: '30' },
  rounds: { type: 'string', default: '3' },
  plain: { type: 'string', default: '3' },
  label: { type: 'string' },
});
const SCALES = list('scales', values.scales, 1000);
const REQUESTS = whole('requests', values.requests, 1);
const ROUNDS = whole('rounds', values.rounds, 1);
const PLAIN_RUNS = whole('plain', values.plain, 0);
const PAGE_SIZE = 20;
const DEEP_PAGE = 6;
const BUDGET_MS = (messages: number) => (messages <= 1_000_000 ? 50 : 100);

/** The terms of the grid: words of the seeded phrase pool (the same at every scale for seed 7). */
const TERMS = [
  { name: 'absent', query: 'xylophonist', meaning: 'a word in no message' },
  { name: 'rare', query: 'pillbox', meaning: 'the rarest word of the data' },
  { name: 'medium', query: 'however', meaning: 'a word in about 1% of the messages' },
  { name: 'common', query: 'need', meaning: 'the most common word' },
  { name: 'third', query: 'need or program or use or anything', meaning: 'about a third of the messages' },
] as const;

interface Cell {
  term: (typeof TERMS)[number]['name'];
  viewer: 'heaviest' | 'median';
  order: SearchOrder;
  page: 'first' | 'deep';
}

interface CellFigures extends Cell {
  /** null: the search has no such page for this viewer (fewer results). */
  p50: number | null;
  p95: number | null;
  samples: number;
  statements: number | null;
  strategy: SearchStrategy | null;
  /** Results on the page. */
  results: number;
  /** The plain statement's median for the same first page, ms. */
  plainP50: number | null;
}

interface ScaleResults {
  messages: number;
  seededInSeconds: number | null;
  viewers: Record<Cell['viewer'], BenchViewer & { messages: number }>;
  terms: { name: string; query: string; meaning: string; matches: number; share: number }[];
  cells: CellFigures[];
  worst: { cell: Cell; explain: string } | null;
}

const scaleResults: ScaleResults[] = [];

for (const messages of SCALES) {
  const url = benchDatabaseUrl(`parley_bench_search_${messages}`);
  await createDatabaseIfMissing(url);
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'development',
    // Not 'warn': the slow-statement lines of the plain statements and the first runs would fill the report's output.
    LOG_LEVEL: 'error',
    DATABASE_URL: url,
    JWT_SECRET: process.env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    RESPONSE_CACHE: 'off',
    LOADER_CACHE: 'off',
    RATE_LIMIT: 'off',
  });
  const pool = createPool(url, config.database, { applicationName: 'parley-bench-search' });
  const seedStart = performance.now();
  const seeded = await prepareBenchDatabase(pool, url, { users: 10_000, conversations: 50_000, messages, seed: 7 }, (line) => console.log(line));
  const seededInSeconds = seeded ? (performance.now() - seedStart) / 1000 : null;

  const { heaviest, median } = await findViewers(pool, PAGE_SIZE);
  const visible = async (viewer: BenchViewer) => {
    const { rows } = await pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM messages WHERE conversation_id IN (SELECT conversation_id FROM conversation_participants WHERE user_id = $1)',
      [viewer.userId],
    );
    return { ...viewer, messages: rows[0]!.count };
  };
  const viewers = { heaviest: await visible(heaviest), median: await visible(median) };
  const terms = [];
  for (const term of TERMS) {
    const { rows } = await pool.query<{ count: number; total: number }>(
      `SELECT (SELECT count(*)::int FROM messages WHERE search_vector @@ websearch_to_tsquery('english', $1)) AS count,
              (SELECT count(*)::int FROM messages) AS total`,
      [term.query],
    );
    terms.push({ ...term, matches: rows[0]!.count, share: rows[0]!.count / rows[0]!.total });
  }
  console.log(
    `${messages} messages: viewers ${JSON.stringify(viewers)}; terms ${terms.map((term) => `${term.name} ${(term.share * 100).toFixed(2)}%`).join(', ')}`,
  );

  const app = await createApp(config, { pool });
  const { auth } = app;
  const { fastify } = await createServer(app);
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const apiUrl = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}/graphql`;
  const tokens = { heaviest: await auth.issueToken(viewers.heaviest.userId), median: await auth.issueToken(viewers.median.userId) };
  const document = print(SearchMessagesDocument);

  interface Answer {
    edges: unknown[];
    endCursor: string | null;
    hasNextPage: boolean;
    statements: number;
  }
  const request = async (cell: Cell, after: string | null): Promise<Answer> => {
    const term = TERMS.find((candidate) => candidate.name === cell.term)!;
    const response = await fetch(apiUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[cell.viewer]}` },
      body: JSON.stringify({ query: document, variables: { query: term.query, orderBy: cell.order, first: PAGE_SIZE, after } }),
    });
    const body = (await response.json()) as {
      data?: { searchMessages: { edges: unknown[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } };
      errors?: unknown[];
    };
    if (body.errors || !body.data) throw new Error(`search failed (${JSON.stringify(cell)}): ${JSON.stringify(body.errors)}`);
    const { edges, pageInfo } = body.data.searchMessages;
    return { edges, endCursor: pageInfo.endCursor, hasNextPage: pageInfo.hasNextPage, statements: Number(response.headers.get('x-sql-statements')) };
  };

  // Each cell's cursor (the deep page's: five pages in), results and statement count.
  const cells: Cell[] = [];
  for (const term of TERMS)
    for (const viewer of ['heaviest', 'median'] as const)
      for (const order of ['RELEVANCE', 'NEWEST'] as const) for (const page of ['first', 'deep'] as const) cells.push({ term: term.name, viewer, order, page });
  const prepared = new Map<Cell, { after: string | null; results: number; statements: number } | null>();
  for (const cell of cells) {
    let after: string | null = null;
    let reachable = true;
    for (let page = 1; cell.page === 'deep' && page < DEEP_PAGE; page += 1) {
      const answer = await request(cell, after);
      if (!answer.hasNextPage) {
        reachable = false;
        break;
      }
      after = answer.endCursor;
    }
    if (!reachable) {
      prepared.set(cell, null);
      continue;
    }
    const answer = await request(cell, after);
    prepared.set(cell, { after, results: answer.edges.length, statements: answer.statements });
  }

  // Timed: every reachable cell, in rounds; three untimed requests first in each.
  const samples = new Map<Cell, number[]>(cells.map((cell) => [cell, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    console.log(`${messages} messages: round ${round + 1} of ${ROUNDS}…`);
    for (const cell of cells) {
      const setup = prepared.get(cell);
      if (!setup) continue;
      for (let warmup = 0; warmup < 3; warmup += 1) await request(cell, setup.after);
      for (let n = 0; n < Math.ceil(REQUESTS / ROUNDS); n += 1) {
        const begin = performance.now();
        await request(cell, setup.after);
        samples.get(cell)!.push(performance.now() - begin);
      }
    }
  }
  await fastify.close();

  // What plan.ts chose, and the plain statement, per cell.
  const viewerIds = { heaviest: viewers.heaviest.userId, median: viewers.median.userId };
  const strategyOf = async (cell: Cell) => {
    const setup = prepared.get(cell);
    if (!setup) return null;
    const term = TERMS.find((candidate) => candidate.name === cell.term)!;
    const outcome = await searchMessages(pool, {
      viewerId: viewerIds[cell.viewer],
      query: term.query,
      conversationId: null,
      order: cell.order,
      size: PAGE_SIZE,
      after: null,
    });
    return outcome.strategy;
  };
  const plainP50 = async (cell: Cell) => {
    if (cell.page !== 'first' || PLAIN_RUNS === 0) return null;
    const term = TERMS.find((candidate) => candidate.name === cell.term)!;
    const order =
      cell.order === 'NEWEST'
        ? 'm.created_at DESC, m.id DESC'
        : "ts_rank_cd(m.search_vector, websearch_to_tsquery('english', $1), 1) DESC, m.created_at DESC, m.id DESC";
    const times: number[] = [];
    for (let run = 0; run < PLAIN_RUNS + 1; run += 1) {
      const begin = performance.now();
      await pool.query(
        `SELECT m.id FROM messages m
         WHERE m.search_vector @@ websearch_to_tsquery('english', $1)
           AND m.conversation_id IN (SELECT conversation_id FROM conversation_participants WHERE user_id = $2)
         ORDER BY ${order} LIMIT 21`,
        [term.query, viewerIds[cell.viewer]],
      );
      if (run > 0) times.push(performance.now() - begin);
    }
    return percentile(
      times.sort((a, b) => a - b),
      50,
    );
  };
  const figures: CellFigures[] = [];
  for (const cell of cells) {
    const sorted = samples.get(cell)!.sort((a, b) => a - b);
    const setup = prepared.get(cell);
    figures.push({
      ...cell,
      p50: sorted.length ? percentile(sorted, 50) : null,
      p95: sorted.length ? percentile(sorted, 95) : null,
      samples: sorted.length,
      statements: setup?.statements ?? null,
      strategy: await strategyOf(cell),
      results: setup?.results ?? 0,
      plainP50: await plainP50(cell),
    });
  }

  // The slowest cell's page statement, explained as it ran.
  const slowest = figures.filter((cell) => cell.p95 !== null).sort((a, b) => b.p95! - a.p95!)[0];
  let worst: ScaleResults['worst'] = null;
  if (slowest) {
    const sent: { text: string; values: unknown[] }[] = [];
    const recording = {
      query: (text: string, parameters: unknown[]) => {
        sent.push({ text, values: parameters });
        return pool.query(text, parameters);
      },
    } as unknown as pg.Pool;
    const term = TERMS.find((candidate) => candidate.name === slowest.term)!;
    let after: SearchCursor | null = null;
    const order = slowest.order;
    for (let page = 1; slowest.page === 'deep' && page < DEEP_PAGE; page += 1) {
      const { page: read } = await searchMessages(pool, {
        viewerId: viewerIds[slowest.viewer],
        query: term.query,
        conversationId: null,
        order,
        size: PAGE_SIZE,
        after,
      });
      after = decodeSearchCursor(read.cursorOf(read.rows.at(-1)!), order, 'after');
    }
    await searchMessages(recording, { viewerId: viewerIds[slowest.viewer], query: term.query, conversationId: null, order, size: PAGE_SIZE, after });
    const page = sent.at(-1)!;
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${page.text}`, page.values);
    // The viewer's conversation ids fill thousands of characters: shown as a count.
    const explain = rows.map((row) => row['QUERY PLAN'].replace(/'\{[0-9,]*\}'/g, (ids) => `'{${ids.split(',').length} ids}'`)).join('\n');
    worst = { cell: { term: slowest.term, viewer: slowest.viewer, order: slowest.order, page: slowest.page }, explain };
  }
  scaleResults.push({ messages, seededInSeconds, viewers, terms, cells: figures, worst });
  await pool.end();
}

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const results = {
  date: new Date().toISOString(),
  commit: git('rev-parse', 'HEAD'),
  uncommittedChanges: git('status', '--porcelain', '--untracked-files=no') !== '',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: os.loadavg() },
  window: { requestsPerCell: REQUESTS, rounds: ROUNDS, pageSize: PAGE_SIZE, deepPage: DEEP_PAGE, rankedMatches: RANKED_MATCHES },
  scales: scaleResults,
};

const fixed = (value: number | null, digits = 1) => (value === null ? '—' : value.toFixed(digits));
const lines: string[] = [
  `# Search benchmark (${results.date.slice(0, 10)})`,
  '',
  `Commit ${results.commit.slice(0, 10)}${results.uncommittedChanges ? ' with uncommitted changes' : ''}. ${results.machine.cpus} × ${results.machine.cpuModel},` +
    ` Node ${results.machine.node}, PostgreSQL on the same host (load average at the end ${results.machine.loadAverage.map((value) => value.toFixed(1)).join(' ')}).`,
  '',
  `The SearchMessages client operation over HTTP, one client, the response cache off; ${REQUESTS} requests per cell in ${ROUNDS} interleaved rounds` +
    ` (three untimed before each). Pages of ${PAGE_SIZE}; the deep page is page ${DEEP_PAGE} (results ${(DEEP_PAGE - 1) * PAGE_SIZE + 1}–${DEEP_PAGE * PAGE_SIZE}),` +
    ` "—" where the viewer has fewer results. RELEVANCE ranks the newest ${RANKED_MATCHES} matches. "plain": the statement search would be without` +
    ` its strategies (every match through the GIN index, then sorted or ranked), its median over ${PLAIN_RUNS} runs.`,
  '',
];
for (const scale of results.scales) {
  const budget = BUDGET_MS(scale.messages);
  const over = scale.cells.filter((cell) => cell.p95 !== null && cell.p95 > budget);
  lines.push(
    `## ${scale.messages.toLocaleString('en')} messages (budget: p95 ≤ ${budget} ms)`,
    '',
    `Viewers: heaviest user ${scale.viewers.heaviest.userId} (${scale.viewers.heaviest.conversations} conversations, ${scale.viewers.heaviest.messages} messages),` +
      ` median user ${scale.viewers.median.userId} (${scale.viewers.median.conversations} conversations, ${scale.viewers.median.messages} messages).` +
      (scale.seededInSeconds !== null ? ` Seeded in ${scale.seededInSeconds.toFixed(0)} s.` : ''),
    '',
    `Terms: ${scale.terms.map((term) => `${term.name} \`${term.query}\` (${term.meaning}: ${term.matches} matches, ${(term.share * 100).toFixed(2)}%)`).join('; ')}.`,
    '',
    '| term | viewer | order | page | strategy | results | p50 ms | p95 ms | statements | plain p50 ms |',
    '| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...scale.cells.map(
      (cell) =>
        `| ${cell.term} | ${cell.viewer} | ${cell.order} | ${cell.page} | ${cell.strategy ?? '—'} | ${cell.p50 === null ? '—' : cell.results} | ${fixed(cell.p50)} |` +
        ` ${cell.p95 !== null && cell.p95 > budget ? `**${fixed(cell.p95)}**` : fixed(cell.p95)} | ${cell.statements ?? '—'} | ${fixed(cell.plainP50)} |`,
    ),
    '',
    over.length === 0
      ? `Every cell within budget (worst p95 ${fixed(Math.max(...scale.cells.map((cell) => cell.p95 ?? 0)))} ms).`
      : `Over budget: ${over.map((cell) => `${cell.term}/${cell.viewer}/${cell.order}/${cell.page} ${fixed(cell.p95)} ms`).join(', ')}.`,
    '',
  );
  if (scale.worst) {
    const { cell, explain } = scale.worst;
    lines.push(
      `<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the slowest cell's page statement: ${cell.term}, ${cell.viewer}, ${cell.order}, ${cell.page} page</summary>`,
      '',
      '```',
      explain,
      '```',
      '',
      '</details>',
      '',
    );
  }
}
const markdown = lines.join('\n');
console.log(markdown);
const written = await writeResults({ benchmark: 'search', label: values.label, date: results.date }, results, markdown);
console.log(`written to ${written}.{json,md}`);
