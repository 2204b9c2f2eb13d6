// `npm run db:refresh`: refreshes the statistics views of DATABASE_URL (or the
// embedded database) now, with the scheduled job's code, lock and log, and
// prints how long it took and the rows it holds.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { refreshUserStats } from '../jobs/refresh-user-stats.js';
import { CliError, parseCliArguments, reportLostConnection, runCli } from './run-cli.js';

const USAGE = `Usage: npm run db:refresh
       node dist/cli/refresh.js   (the built tool, as in the container image)

Refreshes the leaderboards' statistics (user_stats_summary and its ranks) now,
with the scheduled job's code, lock and log, in DATABASE_URL or, when it is
unset, the embedded database (through the running server when there is one).
Exits 1 when another refresh is running or this one fails.

  --help   show this help`;

await runCli(async () => {
  if (!parseCliArguments(USAGE, {})) return;
  const config = loadConfig();
  const database = await openDatabase(config, { applicationName: 'parley-refresh', onError: reportLostConnection });
  try {
    const run = await refreshUserStats(database.pool, { statementTimeoutMs: config.statsRefresh.statementTimeoutMs });
    if (run.outcome === 'succeeded') {
      console.log(`refreshed user_stats_summary: ${run.rows} rows in ${run.durationMs} ms`);
      return;
    }
    if (run.outcome === 'skipped') {
      // The refresh in progress may have read the data before the change this one was run for.
      throw new CliError('skipped: another refresh of user_stats_summary is running; run again once it ends');
    }
    if (run.outcome === 'not-due') throw new Error('a refresh without dueAfterMs is always due');
    throw new CliError(
      `the refresh of user_stats_summary ${run.outcome} after ${run.durationMs} ms: ${run.error}\n` +
        '(the views keep their previous rows; STATS_REFRESH_STATEMENT_TIMEOUT_MS sets the statement timeout)',
    );
  } finally {
    await database.close();
  }
});
