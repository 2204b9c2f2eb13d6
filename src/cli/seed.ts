// `npm run db:seed -- [--users N] [--conversations N] [--messages N] [--seed S] [--reset]`:
// migrates DATABASE_URL (or the embedded database), then fills it with deterministic demo data.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { parseSeedArguments, SEED_USAGE, SeedOptionsError } from './seed/options.js';
import { createProgressReporter } from './seed/progress.js';
import { seedDatabase, SeedRefusedError } from './seed/seed.js';
import { CliError, reportLostConnection, runCli } from './run-cli.js';

await runCli(async () => {
  const parsed = rethrowAsCliError(() => parseSeedArguments(process.argv.slice(2)));
  if (parsed.help) {
    console.log(SEED_USAGE);
    return;
  }
  const { options } = parsed;
  const database = await openDatabase(loadConfig(), { applicationName: 'parley-seed', onError: reportLostConnection });
  const progress = createProgressReporter(process.stderr);
  try {
    // On the database itself (DATABASE_DIRECT_URL when set): the runner's lock lasts its session.
    await database.withDirectPool((pool) => migrate(pool, { log: (line) => console.log(line) }));
    const summary = await seedDatabase(database.pool, options, progress.update).catch((error: unknown) => {
      if (error instanceof SeedRefusedError) {
        throw new CliError('The database already holds users; run again with --reset to replace its data.');
      }
      throw error;
    });
    progress.stop();
    console.log(
      `seeded ${summary.users} users, ${summary.conversations} conversations (${summary.participants} participants), ` +
        `${summary.messages} messages in ${(summary.durationMs / 1000).toFixed(1)} s ` +
        `(seed ${summary.seed}, timestamps up to ${summary.now.toISOString()})`,
    );
  } finally {
    progress.stop();
    await database.close();
  }
});

function rethrowAsCliError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SeedOptionsError) throw new CliError(`${error.message}\n(npm run db:seed -- --help for usage)`);
    throw error;
  }
}
