import type { FastifyBaseLogger } from 'fastify';
import type { ParleyMetrics } from './metrics.js';
import { foldStatement, shortenStatement, type StatementRecorder } from './statements.js';

/** One statement of `extensions.sql`. */
export interface SqlStatement {
  /** As sent, whitespace folded; never its parameters. */
  text: string;
  durationMs: number;
  /** The DataLoader whose batch sent it; null for a resolver's own statement or a write's transaction. */
  loader: string | null;
  /** Present when the statement failed. */
  failed?: true;
}

/** What every request's observation shares: made once per server. */
export interface ObservationSettings {
  metrics: ParleyMetrics | undefined;
  /** A statement slower than this is logged at warn; 0: never. */
  slowStatementMs: number;
}

interface Slowest {
  text: string;
  durationMs: number;
  loader: string | null;
}

/** Milliseconds to a hundredth, for logs and extensions. */
export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * One GraphQL request as the request log, the metrics and `extensions.sql`
 * see it: filled in by the route's hooks, the Apollo plugin and, through
 * the request's pool and loaders, by every statement it sends.
 */
export class RequestObservation implements StatementRecorder {
  loader: string | null = null;
  /** Statements sent so far, and their durations added up (batches run side by side: this can exceed the request's time). */
  statements = 0;
  sqlMs = 0;
  /** Each statement, kept only when the request asked for `extensions.sql`. */
  readonly sql: SqlStatement[] | undefined;
  slowest: Slowest | undefined;
  /** Whether Apollo Server resolved an operation in a valid document (or a stored answer of one was served). */
  resolved = false;
  /** The resolved operation's name; null when anonymous. */
  operationName: string | null = null;
  viewerId: number | undefined;
  /** The operation's estimated cost (extensions.cost.requested); undefined for a stored answer served before Apollo Server. */
  cost: number | undefined;
  /** The first error's code, when the answer has errors. */
  errorCode: string | undefined;

  constructor(
    private readonly settings: ObservationSettings,
    private readonly log: FastifyBaseLogger,
    keepStatements: boolean,
  ) {
    this.sql = keepStatements ? [] : undefined;
  }

  statement(text: string, durationMs: number, loader: string | null, failed: boolean): void {
    this.statements += 1;
    this.sqlMs += durationMs;
    this.settings.metrics?.statement(loader, durationMs / 1000);
    if (!this.slowest || durationMs > this.slowest.durationMs) this.slowest = { text, durationMs, loader };
    // A failed statement is logged where its failure is handled (once per
    // request in an outage, see serviceUnavailablePlugin): not again here.
    const { slowStatementMs } = this.settings;
    if (slowStatementMs > 0 && durationMs >= slowStatementMs && !failed) {
      this.log.warn(
        { sql: { statement: shortenStatement(text), durationMs: roundMs(durationMs), loader }, operationName: this.resolved ? this.operationName : undefined },
        'slow SQL statement',
      );
    }
    this.sql?.push({ text: foldStatement(text), durationMs: roundMs(durationMs), loader, ...(failed ? { failed: true as const } : {}) });
  }

  batch(loader: string, size: number): void {
    this.settings.metrics?.batch(loader, size);
  }
}

declare module '../graphql/context.js' {
  interface Context {
    /**
     * What the request log, the metrics and `extensions.sql` gather of this
     * request: its statements are recorded into it through `db`, `loaders`
     * and `writer`. Null where nothing observes.
     */
    observation: RequestObservation | null;
  }
}
