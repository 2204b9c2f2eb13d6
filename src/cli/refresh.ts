// `npm run db:refresh`: refreshes the statistics views of DATABASE_URL (or the
// embedded database) now, with the scheduled job's code, lock and log, and
// prints how long it took and the rows it holds.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { refreshUserStats } from '../jobs/refresh-user-stats.js';
import { CliError, reportLostConnection, runCli } from './run-cli.js';

await runCli(async () => {
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
