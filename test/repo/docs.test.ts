// The README says what the project does: the commands it names exist, the
// Node versions it supports are the ones package.json declares and CI tests.
import { readdirSync, readFileSync } from 'node:fs';

const readme = readFileSync('README.md', 'utf8');
const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; engines: { node: string } };

it('names only npm scripts that exist', () => {
  const named = [...new Set([...readme.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1]!))];
  expect(named.length).toBeGreaterThan(5);
  expect(named.filter((name) => !(name in manifest.scripts))).toEqual([]);
});

it('names only built tools that exist, and every tool in src/cli', () => {
  const tools = readdirSync('src/cli')
    .filter((file) => file.endsWith('.ts') && file !== 'run-cli.ts')
    .map((file) => file.replace(/\.ts$/, ''));
  const named = new Set([...readme.matchAll(/dist\/cli\/(\w+)\.js/g)].map((match) => match[1]!));
  expect([...named].filter((tool) => !tools.includes(tool))).toEqual([]);
  for (const tool of tools) {
    const scripts = Object.keys(manifest.scripts).filter((name) => manifest.scripts[name]!.includes(`src/cli/${tool}.ts`));
    expect({ tool, scripts: scripts.length }).toEqual({ tool, scripts: 1 });
    expect(readme).toContain(`npm run ${scripts[0]}`);
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
