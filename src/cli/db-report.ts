// `npm run db:report -- [--json] [--watch SECONDS] [--metrics-url URL] [--top N]`:
// what the database at DATABASE_URL says about how Parley uses it, once or as a dashboard.
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type Config } from '../config.js';
import { createPool, type Pool } from '../db/pool.js';
import { describeDatabaseError, isDatabaseUnavailable } from '../db/unavailable.js';
import { DB_REPORT_USAGE, parseReportArguments, ReportArgumentsError, type ReportArguments } from './db-report/arguments.js';
import { collectDatabaseReport, type DatabaseReport } from './db-report/collect.js';
import { renderReport } from './db-report/render.js';
import { readServerMetrics, type OperationBuckets } from './db-report/server-metrics.js';
import { CliError, reportLostConnection, runCli } from './run-cli.js';

/** Cursor home, then clear the screen: each drawing replaces the last. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

await runCli(async () => {
  let options: ReportArguments;
  try {
    options = parseReportArguments(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ReportArgumentsError) throw new CliError(`${error.message}\n\n${DB_REPORT_USAGE}`);
    throw error;
  }
  if (options.help) {
    console.log(DB_REPORT_USAGE);
    return;
  }
  const config = loadConfig();
  if (!config.database.url) {
    throw new CliError(
      'db:report reads a PostgreSQL server: set DATABASE_URL to the database to report on. (The embedded database is ' +
        'opened by one process at a time, the server that started it.)',
    );
  }
  // One connection: the report's statements run one after another, and it
  // should not take a share of the server's connections that the API needs.
  const pool = createPool(config.database.url, { ...config.database, poolMax: 1 }, { applicationName: 'parley-db-report', onError: reportLostConnection });
  try {
    if (options.watchSeconds === null) {
      const { report } = await buildReport(pool, config, options);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, terminalWidth()));
      return;
    }
    await watch(pool, config, options, options.watchSeconds);
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw new CliError(`The database at DATABASE_URL did not answer: ${describeDatabaseError(error)}`);
    throw error;
  } finally {
    await pool.end();
  }
});

function terminalWidth(): number {
  return process.stdout.columns ?? 120;
}

interface Previous {
  buckets: OperationBuckets;
  at: number;
}

/** What the report reads of the configuration: the pool settings, and the token of a server's /metrics (METRICS_TOKEN). */
type ReportConfig = Pick<Config, 'database' | 'metrics'>;

async function buildReport(
  pool: Pool,
  config: ReportConfig,
  options: ReportArguments,
  previous?: Previous,
): Promise<{ report: DatabaseReport; buckets: OperationBuckets | undefined }> {
  const [collected, metrics] = await Promise.all([
    collectDatabaseReport(pool, { config: config.database, top: options.top }),
    readServerMetrics(options.metricsUrl, {
      token: config.metrics.token,
      ...(previous ? { since: { buckets: previous.buckets, secondsAgo: (performance.now() - previous.at) / 1000 } } : {}),
    }),
  ]);
  return { report: { ...collected, serverMetrics: metrics.metrics }, buckets: metrics.buckets };
}

/**
 * Redraws the report every `seconds` until SIGINT or SIGTERM. A database
 * that stops answering is shown as such and asked again next time: a
 * dashboard outlives an outage. Server percentiles cover the interval since
 * the previous drawing.
 */
async function watch(pool: Pool, config: ReportConfig, options: ReportArguments, seconds: number): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let previous: Previous | undefined;
  try {
    while (!stop.signal.aborted) {
      const at = performance.now();
      let output: string;
      try {
        const { report, buckets } = await buildReport(pool, config, options, previous);
        previous = buckets ? { buckets, at } : undefined;
        output = options.json
          ? `${JSON.stringify(report)}\n`
          : `${CLEAR_SCREEN}${renderReport(report, terminalWidth())}\nEvery ${seconds} s, ${new Date().toISOString()}; Ctrl-C to stop.\n`;
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        const message = `The database did not answer (${describeDatabaseError(error)}); asking again in ${seconds} s.`;
        output = options.json ? `${JSON.stringify({ error: message })}\n` : `${CLEAR_SCREEN}${message}\n`;
      }
      process.stdout.write(output);
      await sleep(seconds * 1000, undefined, { signal: stop.signal }).catch(() => {});
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
