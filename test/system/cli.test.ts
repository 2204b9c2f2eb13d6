// Every command-line tool in src/cli answers --help with its usage and exit
// code 0, and refuses a flag it does not know, before it touches a database.
// New tools are picked up from the folder.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from '../support/processes.js';

const tools = (await readdir('src/cli')).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && file !== 'run-cli.ts').sort();
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-cli-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

// The embedded database would be opened in dataDir if a tool went that far.
const env = () => ({ EMBEDDED_DATA_DIR: path.join(dataDir, 'pglite'), NODE_ENV: 'test' });

it('finds the tools', () => {
  expect(tools).toEqual(expect.arrayContaining(['migrate.ts', 'seed.ts', 'token.ts']));
});

describe.each(tools)('src/cli/%s', (tool) => {
  it('answers --help with its usage and exit code 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runCommand(`src/cli/${tool}`, [flag], env());
      expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^Usage: /), stderr: '' });
      expect(result.stdout).toContain('--help');
    }
  });

  it('refuses an unknown flag, naming it, with exit code 1', async () => {
    const result = await runCommand(`src/cli/${tool}`, ['--no-such-flag'], env());
    expect(result).toEqual({ code: 1, stdout: '', stderr: expect.stringContaining('--no-such-flag') });
  });

  it('opened no database doing so', async () => {
    expect(await readdir(dataDir)).toEqual([]);
  });
});
