// The test commands of the README, without services: `npm run test:unit`
// needs none, and `npm test` with no PostgreSQL still runs the unit tests,
// failing only the tests that need a database, with a message that says why.
import { execFile } from 'node:child_process';

// Nothing listens on port 1: as if PostgreSQL and Redis were not installed.
const NO_SERVICES = { TEST_POSTGRES_URL: 'postgresql://postgres@127.0.0.1:1/postgres', TEST_REDIS_URL: 'redis://127.0.0.1:1' };

function npm(args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PARLEY_TEST_')));
  return new Promise((resolve) => {
    execFile('npm', args, { env: { ...inherited, ...NO_SERVICES, ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }),
    );
  });
}

it('npm run test:unit runs the unit tests only, with no services', async () => {
  const result = await npm(['run', 'test:unit', '--', '--testPathPatterns', 'test/unit/config.test.ts', 'test/integration/token-cli.test.ts']);
  expect(result.output).toMatch(/PASS unit test\/unit\/config\.test\.ts/);
  // The integration file was asked for too, and not run: its project was not selected.
  expect(result.output).toMatch(/Test Suites: 1 passed, 1 total/);
  expect(result.output).not.toMatch(/need PostgreSQL/);
  expect(result.code).toBe(0);
}, 120_000);

it('npm test without PostgreSQL runs the unit tests and fails the integration tests with the reason', async () => {
  // As when started from inside another run: its variables name its template,
  // which this run must neither use nor drop (its teardown once did).
  const outerRun = { PARLEY_TEST_TEMPLATE: 'parley_test_outer_run', PARLEY_TEST_POSTGRES_URL: 'postgresql://postgres@127.0.0.1:2/postgres' };
  const result = await npm(['test', '--', '--testPathPatterns', 'test/unit/config.test.ts', 'test/integration/token-cli.test.ts'], outerRun);
  expect(result.output).not.toMatch(/globalTeardown|127\.0\.0\.1:2/);
  expect(result.output).toMatch(/PASS unit test\/unit\/config\.test\.ts/);
  expect(result.output).toMatch(/FAIL integration test\/integration\/token-cli\.test\.ts/);
  expect(result.output).toContain('Integration tests need PostgreSQL at postgresql://postgres@127.0.0.1:1/postgres');
  expect(result.code).toBe(1);
}, 120_000);
