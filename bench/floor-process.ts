// Internal: the child process of `npm run bench` that replays the recorded
// statements of one request straight through pg, on its own event loop,
// with the server's pool settings (createPool and the production defaults).
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { runClosedLoop, type LoadWindow } from './load.js';
import { compileReplay, type PlannedStatement } from './statement-plan.js';

export type FloorRequest = { type: 'start'; databaseUrl: string; plan: PlannedStatement[] } | { type: 'run'; window: LoadWindow } | { type: 'stop' };

const send = (message: unknown) => process.send!(message);
let pool: ReturnType<typeof createPool> | undefined;
let replay: ReturnType<typeof compileReplay> | undefined;

process.on('message', (message: FloorRequest) => {
  void (async () => {
    try {
      if (message.type === 'start') {
        const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: message.databaseUrl, JWT_SECRET: 'x'.repeat(32) });
        pool = createPool(message.databaseUrl, config.database, { applicationName: 'parley-bench-floor' });
        replay = compileReplay(message.plan);
        await replay(pool);
        send({ type: 'ready' });
      } else if (message.type === 'run') {
        const sample = await runClosedLoop(message.window, () => replay!(pool!));
        send({ type: 'result', sample });
      } else {
        await pool?.end();
        process.exit(0);
      }
    } catch (error) {
      send({ type: 'error', message: (error as Error).stack ?? String(error) });
    }
  })();
});
