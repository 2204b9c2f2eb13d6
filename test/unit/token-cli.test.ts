// `npm run token -- --user <id>`: one line, the token alone, that the server accepts.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createAuth } from '../../src/graphql/auth.js';
import { toGlobalId } from '../../src/modules/relay/global-id.js';

const run = promisify(execFile);
const SECRET = 'token-cli-test-secret-0123456789abcdef';

async function token(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], {
    env: { ...process.env, JWT_SECRET: SECRET, NODE_ENV: 'test' },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

const auth = createAuth({ secret: SECRET, ttlSeconds: 60 });

describe('npm run token', () => {
  it('prints a token for a user id, alone on one line', async () => {
    const result = await token('--user', '42');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await auth.viewerFromHeader(`Bearer ${result.stdout.trim()}`)).toEqual({ id: 42 });
  });

  it('takes a User global ID as well', async () => {
    const result = await token('--user', toGlobalId('User', 7));
    expect(await auth.viewerFromHeader(`Bearer ${result.stdout.trim()}`)).toEqual({ id: 7 });
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
