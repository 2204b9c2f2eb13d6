// Internal: the inbox page statement on its own, for the heaviest and the
// median viewer: "a page of a list reads about a page of rows, whoever asks"
// (docs/design.md budgets), measured rather than assumed.
import type pg from 'pg';
import { findInboxPages } from '../src/modules/conversations/sql.js';
import type { BenchViewer } from './database.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';

export interface PageTiming {
  viewer: BenchViewer;
  /** Round trip of the statement from this process, sequential, in ms. */
  roundTrip: LatencySummary;
  /** PostgreSQL's own Execution Time of EXPLAIN ANALYZE, the median of several runs, in ms. */
  executionMs: number;
  /** EXPLAIN (ANALYZE, BUFFERS) of one run. */
  plan: string;
}

/** The statement and values findInboxPages sends for one viewer's first page of `size`. */
async function inboxPageStatement(pool: pg.Pool, userId: number, size: number): Promise<{ text: string; values: unknown[] }> {
  let sent: { text: string; values: unknown[] } | undefined;
  await findInboxPages(
    {
      query: ((text: string, values: unknown[]) => {
        sent = { text, values };
        return pool.query(text, values);
      }) as pg.Pool['query'],
    },
    [{ userId, page: { forward: true, size, cursor: null } }],
  );
  return sent!;
}

async function explain(pool: pg.Pool, statement: { text: string; values: unknown[] }): Promise<{ executionMs: number; plan: string }> {
  const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
  const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
  const executionMs = Number(plan.match(/Execution Time: ([\d.]+) ms/)?.[1]);
  return { executionMs, plan };
}

/** Times the page for each viewer, alternating between them so that noise falls on both alike. */
export async function timeInboxPages(pool: pg.Pool, viewers: BenchViewer[], size: number, samples: number): Promise<PageTiming[]> {
  const statements = await Promise.all(viewers.map((viewer) => inboxPageStatement(pool, viewer.userId, size)));
  const roundTrips = viewers.map(() => [] as number[]);
  const executions = viewers.map(() => [] as number[]);
  for (let sample = 0; sample < samples; sample += 1) {
    for (const [index, statement] of statements.entries()) {
      const started = performance.now();
      await pool.query(statement.text, statement.values);
      roundTrips[index]!.push(performance.now() - started);
    }
  }
  const plans: string[] = [];
  for (let run = 0; run < 7; run += 1) {
    for (const [index, statement] of statements.entries()) {
      const { executionMs, plan } = await explain(pool, statement);
      executions[index]!.push(executionMs);
      plans[index] = plan;
    }
  }
  return viewers.map((viewer, index) => ({
    viewer,
    roundTrip: summarizeLatencies(roundTrips[index]!),
    executionMs: summarizeLatencies(executions[index]!).p50,
    plan: plans[index]!,
  }));
}
