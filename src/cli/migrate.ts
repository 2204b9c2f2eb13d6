// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL (or the embedded database).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { parseCliArguments, reportLostConnection, runCli } from './run-cli.js';

const USAGE = `Usage: npm run db:migrate
       node dist/cli/migrate.js   (the built tool, as in the container image)

Applies the migrations in prisma/migrations that the database lacks, in order,
each once, to DATABASE_URL or, when it is unset, the embedded database
(through the running server when there is one).

  --help   show this help`;

await runCli(async () => {
  if (!parseCliArguments(USAGE, {})) return;
  const database = await openDatabase(loadConfig(), { applicationName: 'parley-migrate', onError: reportLostConnection });
  try {
    const result = await migrate(database.pool, { log: (line) => console.log(line) });
    console.log(
      result.applied.length === 0
        ? `database is up to date (${result.alreadyApplied.length} migrations applied before)`
        : `applied ${result.applied.length} migrations (${result.alreadyApplied.length} applied before)`,
    );
  } finally {
    await database.close();
  }
});
