// The README and the pages of docs/ say what the project does: the commands
// they name exist, the Node versions the README supports are the ones
// package.json declares and CI tests, and every page the README links is
// there.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const readme = readFileSync('README.md', 'utf8');
const pages = readdirSync('docs')
  .filter((file) => file.endsWith('.md'))
  .map((file) => readFileSync(path.join('docs', file), 'utf8'));
/** Everything the project's documentation says: the README, then every page of docs/. */
const documentation = [readme, ...pages].join('\n');
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };

it('names only npm scripts that exist', () => {
  const named = [...new Set([...documentation.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]!))];
  expect(named.length).toBeGreaterThan(5);
  expect(named.filter((name) => !(name in manifest.scripts))).toEqual([]);
});

it('names only built tools that exist, and every tool in src/cli', () => {
  const tools = readdirSync('src/cli')
    .filter((file) => file.endsWith('.ts') && file !== 'run-cli.ts')
    .map((file) => file.replace(/\.ts$/, ''));
  const named = new Set([...documentation.matchAll(/dist\/cli\/(\w+)\.js/g)].map((match) => match[1]!));
  expect([...named].filter((tool) => !tools.includes(tool))).toEqual([]);
  for (const tool of tools) {
    const scripts = Object.keys(manifest.scripts).filter((name) => manifest.scripts[name]!.includes(`src/cli/${tool}.ts`));
    expect({ tool, scripts: scripts.length }).toEqual({ tool, scripts: 1 });
    expect(documentation).toContain(`npm run ${scripts[0]}`);
  }
});

it('supports the Node lines that package.json declares and .ci/run tests', () => {
  const declared = manifest.engines.node.split('||').map((range) => Number(/\^(\d+)\./.exec(range.trim())?.[1]));
  // CI: the machine's Node (20 here) and the lines it installs.
  const ciLines = /CI_NODE_LINES-([\d ]+)\}/.exec(readFileSync('.ci/run', 'utf8'))?.[1]?.split(' ').map(Number) ?? [];
  expect(ciLines.length).toBeGreaterThan(0);
  expect(declared.sort()).toEqual([20, ...ciLines].sort());
  const prerequisites = readme.slice(readme.indexOf('## Prerequisites'), readme.indexOf('\n## ', readme.indexOf('## Prerequisites') + 1));
  for (const line of declared) expect(prerequisites).toMatch(new RegExp(`Node\\.js ${line}\\b`));
});

it('links only pages and folders that exist', () => {
  const files = [
    'README.md',
    ...readdirSync('docs')
      .filter((file) => file.endsWith('.md'))
      .map((file) => path.join('docs', file)),
  ];
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const [, target] of readFileSync(file, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      checked += 1;
      if (!existsSync(path.join(path.dirname(file), target!))) broken.push(`${file}: ${target}`);
    }
  }
  expect(files.length).toBeGreaterThan(5);
  expect(checked).toBeGreaterThan(20);
  expect(broken).toEqual([]);
});

it('keeps the README a five-minute read: at most 200 lines, with a first query in its first 60', () => {
  const lines = readme.split('\n');
  expect(lines.length).toBeLessThanOrEqual(200);
  expect(lines.slice(0, 60).join('\n')).toMatch(/```graphql\nquery \{/);
});
