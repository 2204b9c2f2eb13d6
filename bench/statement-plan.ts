// Internal: the SQL floor of the benchmark. The statements one inbox request
// sends are recorded with what each waited for, then replayed straight
// through a pg pool in the same dependency order: what the request would
// cost if Node did nothing but send SQL and parse rows.
import type pg from 'pg';

export interface PlannedStatement {
  text: string;
  values: unknown[];
  /** A prepared statement's name, when the application names it. */
  name?: string;
  /** 'array' where the application reads the rows as arrays (pg's rowMode): the replay reads them so too. */
  rowMode?: 'array';
  /**
   * The statement whose completion this one was sent after (the last one
   * completed when it was sent), or null for the first: the replay sends it
   * when that one completes, as the resolvers did.
   */
  after: number | null;
}

/**
 * Wraps `pool.query` to record what is sent through it until the returned
 * function is called, which restores the pool and returns the plan. Every
 * read of a GraphQL request goes through pool.query (the loaders' SQL).
 */
export function recordStatements(pool: pg.Pool): () => PlannedStatement[] {
  const plan: PlannedStatement[] = [];
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  let lastCompleted: number | null = null;
  (pool as { query: unknown }).query = (...args: unknown[]) => {
    const index = plan.length;
    const [first, second] = args as [string | (pg.QueryConfig & { rowMode?: string }), unknown[] | undefined];
    const statement: PlannedStatement =
      typeof first === 'string'
        ? { text: first, values: second ?? [], after: lastCompleted }
        : {
            text: first.text,
            values: first.values ?? [],
            ...(first.name ? { name: first.name } : {}),
            ...(first.rowMode === 'array' ? { rowMode: 'array' as const } : {}),
            after: lastCompleted,
          };
    plan.push(statement);
    const sent = query(...args);
    // Registered before the caller's own continuation, so anything the
    // caller sends next sees this statement as completed.
    void sent.then(
      () => {
        lastCompleted = index;
      },
      () => {},
    );
    return sent;
  };
  return () => {
    (pool as { query: unknown }).query = query;
    // Values go to another process as JSON: what survives the trip is what the replay sends.
    return JSON.parse(JSON.stringify(plan)) as PlannedStatement[];
  };
}

/** A plan prepared for replaying many times: which statements start it, which follow each. */
export interface Replay {
  (pool: pg.Pool): Promise<void>;
}

export function compileReplay(plan: readonly PlannedStatement[]): Replay {
  const followers = plan.map(() => [] as number[]);
  const roots: number[] = [];
  plan.forEach((statement, index) => (statement.after === null ? roots : followers[statement.after]!).push(index));
  const send = async (pool: pg.Pool, index: number): Promise<void> => {
    const { text, values, name, rowMode } = plan[index]!;
    await pool.query({ text, values, ...(name ? { name } : {}), ...(rowMode ? { rowMode } : {}) });
    await Promise.all(followers[index]!.map((follower) => send(pool, follower)));
  };
  return async (pool) => {
    await Promise.all(roots.map((root) => send(pool, root)));
  };
}

/** The plan as indented lines (each statement under the one it waited for), for the report. */
export function describePlan(plan: readonly PlannedStatement[]): string[] {
  const depth = (index: number): number => (plan[index]!.after === null ? 0 : 1 + depth(plan[index]!.after));
  return plan.map((statement, index) => {
    const firstLine = statement.text.replace(/\s+/g, ' ').trim().slice(0, 90);
    return `${'  '.repeat(depth(index))}${index + 1}. ${firstLine}…`;
  });
}
