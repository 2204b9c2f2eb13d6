// `npm run prisma:generate`: runs `prisma generate`.
//
// Prisma 7's client needs no engine, but the CLI still resolves its schema
// engine before generating. Where that binary could not be downloaded (npm
// does not run Prisma's install script unless allowed, or the network is
// closed), any executable satisfies the check, so we point it at node itself.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const env = { ...process.env };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) {
  const enginesDir = path.dirname(require.resolve('@prisma/engines/package.json'));
  const hasEngine = existsSync(enginesDir) && readdirSync(enginesDir).some((file) => file.startsWith('schema-engine'));
  if (!hasEngine) env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
const result = spawnSync(process.execPath, [require.resolve('prisma/build/index.js'), 'generate', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
