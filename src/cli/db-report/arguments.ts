import { parseArgs } from 'node:util';

export const DB_REPORT_USAGE = `Usage: npm run db:report -- [--json] [--watch SECONDS] [--metrics-url URL] [--top N]

Reports on the database at DATABASE_URL: index usage (unused indexes and their
size), table and index sizes, the buffer-cache hit ratio per table, the slowest
and most frequent statements (pg_stat_statements), materialized views' age and
last refresh, the connection pool, and with --metrics-url the API's own
p50/p95/p99 per operation.

  --json              one JSON document instead of text (with --watch: one per line)
  --watch SECONDS     redraw every SECONDS seconds, like a dashboard; Ctrl-C stops
  --metrics-url URL   a running server's Prometheus endpoint, e.g. http://localhost:4000/metrics
                      (sent METRICS_TOKEN from the environment as a bearer token when it is set)
  --top N             statements in each pg_stat_statements list (default 10, at most 100)
  --help              show this help`;

export interface ReportArguments {
  help: boolean;
  json: boolean;
  /** Null: report once. */
  watchSeconds: number | null;
  metricsUrl: string | undefined;
  top: number;
}

/** A command line the report cannot run with; the message names the flag and what it expects. */
export class ReportArgumentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportArgumentsError';
  }
}

const MAX_WATCH_SECONDS = 3_600;

/** Parses `npm run db:report -- …`; unknown flags and stray words are refused. */
export function parseReportArguments(argv: string[]): ReportArguments {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean', default: false },
        watch: { type: 'string' },
        'metrics-url': { type: 'string' },
        top: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new ReportArgumentsError((error as Error).message);
  }
  if (values.help) return { help: true, json: false, watchSeconds: null, metricsUrl: undefined, top: 10 };

  let watchSeconds: number | null = null;
  if (values.watch !== undefined) {
    watchSeconds = Number(values.watch);
    if (values.watch.trim() === '' || !Number.isFinite(watchSeconds) || watchSeconds < 0.5 || watchSeconds > MAX_WATCH_SECONDS) {
      throw new ReportArgumentsError(`--watch: expected seconds from 0.5 to ${MAX_WATCH_SECONDS} (got ${JSON.stringify(values.watch)})`);
    }
  }

  let top = 10;
  if (values.top !== undefined) {
    top = Number(values.top);
    if (!/^\d+$/.test(values.top) || top < 1 || top > 100)
      throw new ReportArgumentsError(`--top: expected a whole number from 1 to 100 (got ${JSON.stringify(values.top)})`);
  }

  const metricsUrl = values['metrics-url'];
  if (metricsUrl !== undefined && !/^https?:\/\/[^/]/.test(metricsUrl)) {
    throw new ReportArgumentsError(
      `--metrics-url: expected an http:// or https:// URL such as http://localhost:4000/metrics (got ${JSON.stringify(metricsUrl)})`,
    );
  }
  if (metricsUrl !== undefined) {
    try {
      new URL(metricsUrl);
    } catch {
      throw new ReportArgumentsError(
        `--metrics-url: expected an http:// or https:// URL such as http://localhost:4000/metrics (got ${JSON.stringify(metricsUrl)})`,
      );
    }
  }

  return { help: false, json: values.json, watchSeconds, metricsUrl, top };
}
