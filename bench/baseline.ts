// Internal: another commit of Parley (today's main, say) built beside this
// one, so `npm run bench -- --baseline <ref>` measures both in one run on the
// same machine, rather than comparing with figures from another day.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildCheckout } from './server-process.js';

const run = promisify(execFile);

export interface Baseline {
  ref: string;
  commit: string;
  root: string;
}

/**
 * Exports `ref` from this repository (git archive) into a directory under the
 * system's temporary directory, links this checkout's node_modules into it and
 * builds it; a second run reuses the build. The baseline's dependencies must
 * be a subset of this checkout's (true of the project's own history).
 */
export async function prepareBaseline(repositoryRoot: string, ref: string): Promise<Baseline> {
  const { stdout } = await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: repositoryRoot });
  const commit = stdout.trim();
  const root = path.join(os.tmpdir(), `parley-bench-${commit.slice(0, 12)}`);
  if (!existsSync(path.join(root, 'dist', 'main.js'))) {
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    await run('sh', ['-c', `git archive ${commit} | tar -x -C "${root}"`], { cwd: repositoryRoot });
    await symlink(path.join(repositoryRoot, 'node_modules'), path.join(root, 'node_modules'), 'dir');
    await buildCheckout(root);
  }
  return { ref, commit, root };
}
