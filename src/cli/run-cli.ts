// Internal: runs a command-line entry point, printing expected failures
// (bad configuration, a refused migration or seed) as one message, not a stack.
import { ConfigError } from '../config.js';

export class CliError extends Error {}

export async function runCli(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const expected = error instanceof ConfigError || error instanceof CliError || (error as Error).name === 'MigrationError';
    console.error(expected ? (error as Error).message : error);
    process.exitCode = 1;
  }
}

/** A command's pool hears of connections the server closed while they idled: a line on stderr, the command goes on. */
export function reportLostConnection(error: Error): void {
  console.warn(`warning: an idle database connection was lost (${error.message}); the next statement opens a new one`);
}
