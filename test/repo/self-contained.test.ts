// The project stands on its own: no committed file points at documents kept
// outside the repository (a design file beside it, a sibling folder) or at
// the paths of the machine it was written on. Where one was needed, its
// content belongs in the project (docs/).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const THIS_FILE = 'test/repo/self-contained.test.ts';
// Spelled in pieces so that this file does not match itself.
const OUTSIDE = [
  ['DESIGN', '.md'],
  ['..', '/shared'],
  ['/work', '/'],
].map((parts) => parts.join(''));

it('no committed file refers to files outside the project', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);
  expect(files.length).toBeGreaterThan(50);
  const found: string[] = [];
  for (const file of files) {
    if (file === THIS_FILE) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // listed but removed in the working tree
    }
    text.split('\n').forEach((line, index) => {
      for (const reference of OUTSIDE) if (line.includes(reference)) found.push(`${file}:${index + 1}: ${line.trim()}`);
    });
  }
  expect(found).toEqual([]);
});
