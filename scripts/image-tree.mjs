// `node scripts/image-tree.mjs <folder>`: builds the container image's files
// without Docker, by the Dockerfile's own COPY and RUN steps, each stage in a
// subfolder (<folder>/build, <folder>/deps, <folder>/runtime); the last one is
// what the image holds in /app. test/system/image.test.ts checks that
// STAGES lists exactly the Dockerfile's steps, then starts the result.
//
// Two steps run differently here, and say why: the build stage's `npm ci`
// links the checkout's node_modules (the same lock file, installed by the
// same command a moment before in CI; a second install costs a minute), and
// `chown node:node` needs the image's `node` user.
import { execSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each stage's COPY and RUN lines, as in the Dockerfile; `here` replaces a RUN that cannot run as written outside the image. */
export const STAGES = {
  build: [
    { step: 'COPY package.json package-lock.json ./' },
    { step: 'RUN npm ci --no-audit --no-fund', here: (stage) => symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir') },
    { step: 'COPY tsconfig.json tsconfig.build.json ./' },
    { step: 'COPY src ./src' },
    { step: 'RUN npm run build' },
  ],
  deps: [{ step: 'COPY package.json package-lock.json ./' }, { step: 'RUN npm ci --omit=dev --omit=optional --no-audit --no-fund' }],
  runtime: [
    { step: 'COPY package.json ./' },
    { step: 'COPY --from=deps /app/node_modules ./node_modules' },
    { step: 'COPY schema ./schema' },
    { step: 'COPY prisma/migrations ./prisma/migrations' },
    { step: 'COPY --from=build /app/dist ./dist' },
    { step: 'RUN mkdir -p .data && chown node:node .data', here: (stage) => mkdirSync(path.join(stage, '.data')) },
  ],
};

// Quiet unless it fails: then what it printed is the error's message.
function run(command, cwd) {
  try {
    execSync(command, { cwd, stdio: 'pipe' });
  } catch (error) {
    throw new Error(`${command} failed in ${cwd}:\n${error.stdout}${error.stderr}`, { cause: error });
  }
}

/** Builds every stage under `folder` (emptied first); returns the runtime stage's folder. */
export function buildImageTree(folder, log = (line) => console.error(line)) {
  rmSync(folder, { recursive: true, force: true });
  for (const [name, steps] of Object.entries(STAGES)) {
    const stage = path.join(folder, name);
    mkdirSync(stage, { recursive: true });
    for (const { step, here } of steps) {
      log(`[${name}] ${step}`);
      const [instruction, ...rest] = step.split(' ');
      if (instruction === 'RUN') {
        if (here) here(stage);
        else run(rest.join(' '), stage);
        continue;
      }
      // COPY [--from=<stage>] <source>... <destination>: sources from the
      // checkout, or from an earlier stage's /app.
      const from = rest[0].startsWith('--from=') ? rest.shift().slice('--from='.length) : undefined;
      const destination = path.join(stage, rest.pop());
      for (const source of rest) {
        const origin = from ? path.join(folder, from, path.relative('/app', source)) : path.join(ROOT, source);
        const target = destination.endsWith(path.sep) || rest.length > 1 ? path.join(destination, path.basename(source)) : destination;
        cpSync(origin, target, { recursive: true, dereference: true });
      }
    }
  }
  return path.join(folder, 'runtime');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv[2] || process.argv[2] === '--help') {
    console.log("Usage: node scripts/image-tree.mjs <folder>   (builds the image's /app in <folder>/runtime)");
    process.exit(process.argv[2] ? 0 : 1);
  }
  const started = performance.now();
  const runtime = buildImageTree(path.resolve(process.argv[2]));
  console.log(`${runtime} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
