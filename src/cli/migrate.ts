// `npm run db:migrate`: applies prisma/migrations to DATABASE_DIRECT_URL, else DATABASE_URL (or the embedded database).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { parseCliArguments, reportLostConnection, runCli } from './run-cli.js';

const USAGE = `Usage: npm run db:migrate
       node dist/cli/migrate.js   (the built tool, as in the container image)

Applies the migrations in prisma/migrations that the database lacks, in order,
each once, to DATABASE_URL (DATABASE_DIRECT_URL when DATABASE_URL is a pooler)
or, when it is unset, the embedded database (through the running server when
there is one).

  --help   show this help`;

await runCli(async () => {
  if (!parseCliArguments(USAGE, {})) return;
  const database = await openDatabase(loadConfig(), { applicationName: 'parley-migrate', onError: reportLostConnection });
  try {
    // On the database itself (DATABASE_DIRECT_URL when set): the runner's lock lasts its session.
    const result = await database.withDirectPool((pool) => migrate(pool, { log: (line) => console.log(line) }));
    console.log(
      result.applied.length === 0
        ? `database is up to date (${result.alreadyApplied.length} migrations applied before)`
        : `applied ${result.applied.length} migrations (${result.alreadyApplied.length} applied before)`,
    );
  } finally {
    await database.close();
  }
});
