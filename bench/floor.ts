// Internal: the parent's side of floor-process.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { LoadSample, LoadWindow } from './load.js';
import type { FloorRequest } from './floor-process.js';
import type { PlannedStatement } from './statement-plan.js';

export interface FloorProcess {
  pid: number;
  run(window: LoadWindow): Promise<LoadSample>;
  stop(): Promise<void>;
}

export async function startFloor(databaseUrl: string, plan: PlannedStatement[]): Promise<FloorProcess> {
  const child: ChildProcess = fork(new URL('./floor-process.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
  });
  const ask = async <Reply>(request: FloorRequest, expected: string): Promise<Reply> => {
    child.send(request);
    const [reply] = (await once(child, 'message')) as [{ type: string; message?: string } & Reply];
    if (reply.type !== expected) throw new Error(`the floor process failed: ${reply.message ?? reply.type}`);
    return reply;
  };
  await ask({ type: 'start', databaseUrl, plan }, 'ready');
  return {
    pid: child.pid!,
    run: async (window) => (await ask<{ sample: LoadSample }>({ type: 'run', window }, 'result')).sample,
    async stop() {
      const exit = once(child, 'exit');
      child.send({ type: 'stop' } satisfies FloorRequest);
      await exit;
    },
  };
}
