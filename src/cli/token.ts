// `npm run token -- --user <id>`: prints a bearer token for that user, alone on one line.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createAuth } from '../graphql/auth.js';
import { tokenSecret } from '../graphql/token-secret.js';
import { idOfType } from '../modules/relay/global-id.js';
import { CliError, runCli } from './run-cli.js';

await runCli(async () => {
  let values;
  try {
    ({ values } = parseArgs({ options: { user: { type: 'string' } }, strict: true }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nUsage: npm run token -- --user <id>`);
  }
  const userId = parseUserId(values.user);
  if (userId === null) {
    throw new CliError(
      `--user: expected a user id (a positive whole number, or a User global ID)${values.user ? ` (got ${JSON.stringify(values.user)})` : ''}\n` +
        'Usage: npm run token -- --user <id>',
    );
  }
  const config = loadConfig();
  // Does not open the database: the embedded one may be in use by the running server.
  // Signs with the server's secret: JWT_SECRET, or the one kept in the data directory.
  const auth = createAuth({ secret: await tokenSecret(config.auth), ttlSeconds: config.auth.tokenTtlSeconds });
  process.stdout.write(`${await auth.issueToken(userId)}\n`);
});

/** A database id ("42") or the global ID GraphQL shows for the user; null when it is neither. */
function parseUserId(value: string | undefined): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value)) {
    const id = Number(value);
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  }
  try {
    return idOfType(value, 'User', '--user');
  } catch {
    return null;
  }
}
