// `npm run token -- --user <id>`: one line, the token alone, that the server
// accepts, for a user that exists; anything else refused with a reason.
import { createAuth } from '../../src/graphql/auth.js';
import { toGlobalId } from '../../src/graphql/relay/global-id.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { insertUser, type FixtureUser } from '../support/fixtures.js';
import { runCommand } from '../support/processes.js';

const SECRET = 'token-cli-test-secret-0123456789abcdef';
const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });
let database: TestDatabase;
let user: FixtureUser;

beforeAll(async () => {
  database = await createTestDatabase();
  user = await insertUser(database.pool, 'Tokened');
});
afterAll(() => database?.close());

const token = (...args: string[]) => runCommand('src/cli/token.ts', args, { JWT_SECRET: SECRET, NODE_ENV: 'test', DATABASE_URL: database.url });

describe('npm run token', () => {
  it('prints a token for a user id, alone on one line', async () => {
    const result = await token('--user', String(user.id));
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await auth.viewerFromHeader(`Bearer ${result.stdout.trim()}`)).toEqual({ id: user.id });
  });

  it('takes a User global ID as well', async () => {
    const result = await token('--user', toGlobalId('User', user.id));
    expect(await auth.viewerFromHeader(`Bearer ${result.stdout.trim()}`)).toEqual({ id: user.id });
  });

  it('refuses a user that does not exist', async () => {
    const result = await token('--user', String(user.id + 1000));
    expect(result).toEqual({ code: 1, stdout: '', stderr: `There is no user with id ${user.id + 1000} in the database.\n` });
  });

  it.each([[[]], [['--user', 'abc']], [['--user', '0']], [['--user', toGlobalId('Conversation', 7)]], [['--nope']]])(
    'refuses %j with a usage message and exit code 1',
    async (args) => {
      const result = await token(...args);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/Usage: npm run token -- --user <id>/);
    },
  );
});
