// `npm run token -- --user <id>`: prints a bearer token for that user, alone on one line.
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createAuth } from '../graphql/auth.js';
import { tokenSecret } from '../graphql/token-secret.js';
import { findUsersByIds } from '../modules/users/sql.js';
import { idOfType } from '../graphql/relay/global-id.js';
import { CliError, parseCliArguments, reportLostConnection, runCli } from './run-cli.js';

const USAGE = `Usage: npm run token -- --user <id>
       node dist/cli/token.js --user <id>   (the built tool, as in the container image)

Prints a bearer token (send as Authorization: Bearer <token>) for an existing
user, alone on one line. The token is signed with JWT_SECRET (or the secret
kept in the data directory when it is unset) and lasts JWT_TTL_SECONDS.

  --user <id>   a user's database id (42) or its User global ID
  --help        show this help`;

await runCli(async () => {
  const values = parseCliArguments(USAGE, { user: { type: 'string' } });
  if (!values) return;
  const userId = parseUserId(values.user);
  if (userId === null) {
    throw new CliError(
      `--user: expected a user id (a positive whole number, or a User global ID)${values.user ? ` (got ${JSON.stringify(values.user)})` : ''}\n${USAGE}`,
    );
  }
  const config = loadConfig();
  // A token for a user that does not exist would only be refused later, request by request.
  const database = await openDatabase(config, { applicationName: 'parley-token', onError: reportLostConnection });
  try {
    const [user] = await findUsersByIds(database.pool, [userId]);
    if (!user) throw new CliError(`There is no user with id ${userId} in the database.`);
  } finally {
    await database.close();
  }
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
