// Internal: runs a command-line entry point, printing expected failures
// (bad configuration or arguments, a refused migration or seed, a busy
// embedded database) as one message, not a stack.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config.js';

export class CliError extends Error {}

const EXPECTED_ERRORS = new Set(['MigrationError', 'EmbeddedDatabaseBusyError']);

// What PgBouncer answers a connection made as to the database itself: pg
// sends statement_timeout at startup unless DATABASE_URL is known to be a
// pooler (db/pool.ts).
const POOLER_REFUSAL = /^unsupported startup parameter: /;

export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = (error as Error | undefined)?.message ?? '';
    if (POOLER_REFUSAL.test(message)) {
      console.error(
        `The database at DATABASE_URL refused the connection: ${message}. It is a pooler (PgBouncer): ` +
          'set DATABASE_DIRECT_URL to the database itself, which migrations use and which tells Parley that DATABASE_URL is a pooler.',
      );
    } else {
      const expected = error instanceof ConfigError || error instanceof CliError || EXPECTED_ERRORS.has((error as Error).name);
      console.error(expected ? message : error);
    }
    process.exitCode = 1;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false }>>['values'];

/**
 * Every command's flags, read the same way: `--help` (or `-h`) prints the
 * usage and returns undefined (the command then ends with exit code 0); an
 * unknown flag, a stray argument or a missing value is a CliError naming it,
 * followed by the usage.
 */
export function parseCliArguments<O extends Options>(usage: string, options: O, argv: string[] = process.argv.slice(2)): Values<O> | undefined {
  let values: Values<O>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }) as unknown as { values: Values<O> });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n${usage}`);
  }
  if ((values as { help?: boolean }).help) {
    console.log(usage);
    return undefined;
  }
  return values;
}

/** A command's pool hears of connections the server closed while they idled: a line on stderr, the command goes on. */
export function reportLostConnection(error: Error): void {
  console.warn(`warning: an idle database connection was lost (${error.message}); the next statement opens a new one`);
}
