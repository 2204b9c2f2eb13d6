// The test commands (README, docs/development.md), without services: `npm
// run test:unit` needs none and refuses to reach one, `npm test` with no
// PostgreSQL still runs the unit tests, failing only the tests that need a
// database, with a message that says why; without Chromium it leaves the
// browser test out and says so last, unless under CI, where it is required.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
  const result = await npm(['run', 'test:unit', '--', '--testPathPatterns', 'test/unit/config.test.ts', 'test/integration/timestamps.test.ts']);
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
  const result = await npm(['test', '--', '--testPathPatterns', 'test/unit/config.test.ts', 'test/integration/timestamps.test.ts'], outerRun);
  expect(result.output).not.toMatch(/globalTeardown|127\.0\.0\.1:2/);
  expect(result.output).toMatch(/PASS unit test\/unit\/config\.test\.ts/);
  expect(result.output).toMatch(/FAIL integration test\/integration\/timestamps\.test\.ts/);
  expect(result.output).toContain('Integration tests need PostgreSQL at postgresql://postgres@127.0.0.1:1/postgres');
  expect(result.code).toBe(1);
}, 120_000);

it('npm run test:unit refuses a connection to PostgreSQL or Redis, naming the tier where such a test belongs', async () => {
  const connect = `
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres' });
    await client.connect().then(() => console.log('connected'), (error) => console.log(error.message));`;
  const result = await new Promise<string>((resolve) =>
    execFile(process.execPath, ['--import', './test/support/no-services.mjs', '--input-type=module', '-e', connect], (_error, stdout, stderr) =>
      resolve(stdout + stderr),
    ),
  );
  expect(result.trim()).toBe('unit tests use no services, and this one connected to port 5432: move it to test/integration/');
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
  expect(manifest.scripts['test:unit']).toContain('--import ./test/support/no-services.mjs');
});

it('npm test without Chromium leaves the browser test out, passes, and ends saying so and how to install it', async () => {
  const result = await npm(['test', '--', '--testPathPatterns', 'test/system/explorer-browser.test.ts', 'test/system/cli.test.ts', '-t', 'finds the tools'], {
    CHROMIUM_PATH: '/nonexistent/chromium',
    CI: '',
  });
  expect(result.output).toMatch(/PASS system test\/system\/cli\.test\.ts/);
  expect(result.output).not.toMatch(/(PASS|FAIL) system test\/system\/explorer-browser/);
  expect(result.output.trimEnd().split('\n').slice(-2)).toEqual([
    "Not run: the explorer's browser test (test/system/explorer-browser.test.ts) needs Chromium at /nonexistent/chromium, which is not installed.",
    'Install it with `sudo apt-get install -y chromium`, then run `npm run test:system` again. The other tests ran.',
  ]);
  expect(result.code).toBe(0);
}, 120_000);

it('under CI the browser test is required: without Chromium it fails, saying how to install it', async () => {
  const result = await npm(['test', '--', '--testPathPatterns', 'test/system/explorer-browser.test.ts'], {
    CHROMIUM_PATH: '/nonexistent/chromium',
    CI: 'true',
  });
  expect(result.output).toMatch(/FAIL system test\/system\/explorer-browser\.test\.ts/);
  expect(result.output).toContain('This test drives Chromium at /nonexistent/chromium, which is not installed: sudo apt-get install -y chromium');
  expect(result.output).not.toContain('Not run:');
  expect(result.code).toBe(1);
}, 120_000);
