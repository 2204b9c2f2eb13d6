import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { acquireLock, isRunning, lockFilePath, type LockRecord } from '../../../src/db/embedded-lock.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-lock-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

const record = { name: 'parley-test', port: null, shares: false } as const;
const fileRecord = async () => JSON.parse(await readFile(lockFilePath(dataDir), 'utf8')) as LockRecord;

/** A pid that no process has: one that ran and exited. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await once(child, 'exit');
  return child.pid!;
}

describe('the embedded database lock', () => {
  it('is taken by the first process, with its pid, and updated and released atomically', async () => {
    const result = await acquireLock(dataDir, record);
    if (!result.acquired) throw new Error('expected the lock');
    expect(await fileRecord()).toEqual({ ...record, pid: process.pid, startedAt: expect.any(String) });
    await result.lock.update({ port: 5555 });
    expect((await fileRecord()).port).toBe(5555);
    await result.lock.release();
    // No temporary files left beside it either.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('reports a live holder instead of taking its lock', async () => {
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)']);
    await once(holder, 'spawn');
    try {
      const held: LockRecord = { pid: holder.pid!, name: 'parley-api', port: 4242, shares: true, startedAt: '2026-01-01T00:00:00.000Z' };
      await writeFile(lockFilePath(dataDir), JSON.stringify(held));
      expect(await acquireLock(dataDir, record)).toEqual({ acquired: false, holder: held });
      expect(await fileRecord()).toEqual(held);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it.each([
    ['a process that exited', async () => JSON.stringify({ pid: await exitedPid(), name: 'parley-api', port: 1234, shares: true, startedAt: '' })],
    // In a container, the server is pid 1 after every restart: a lock with our own pid is an old one.
    ['this very pid (a restarted container)', async () => JSON.stringify({ pid: process.pid, name: 'parley-api', port: 1234, shares: true, startedAt: '' })],
    ['an unreadable file', async () => 'not json'],
  ])('takes over a stale lock: %s', async (_, content) => {
    await writeFile(lockFilePath(dataDir), await content());
    const result = await acquireLock(dataDir, record);
    expect(result.acquired).toBe(true);
    expect(await fileRecord()).toMatchObject({ pid: process.pid, port: null });
    expect(await readdir(dataDir)).toEqual(['parley.lock']);
  });

  it('release leaves a lock that is no longer this process’s alone', async () => {
    const result = await acquireLock(dataDir, record);
    if (!result.acquired) throw new Error('expected the lock');
    const other = JSON.stringify({ pid: 1, name: 'other', port: null, shares: false, startedAt: '' });
    await writeFile(lockFilePath(dataDir), other);
    await result.lock.release();
    expect(await readFile(lockFilePath(dataDir), 'utf8')).toBe(other);
  });

  it('one of several processes racing for a free folder, or for a stale lock, gets it', async () => {
    for (const stale of [false, true]) {
      if (stale) await writeFile(lockFilePath(dataDir), JSON.stringify({ pid: await exitedPid(), name: 'gone', port: null, shares: false, startedAt: '' }));
      const racers = Array.from({ length: 6 }, () =>
        spawn(process.execPath, ['--import', 'tsx', 'test/support/hold-embedded-lock.ts', dataDir], { stdio: ['pipe', 'pipe', 'inherit'] }),
      );
      const lines = await Promise.all(
        racers.map(async (racer) => JSON.parse(String((await once(racer.stdout, 'data'))[0])) as { acquired: boolean; pid?: number; holder?: number }),
      );
      const winners = lines.filter((line) => line.acquired);
      expect(winners).toHaveLength(1);
      // Every loser names the winner.
      expect(new Set(lines.filter((line) => !line.acquired).map((line) => line.holder))).toEqual(new Set([winners[0]!.pid]));
      expect((await fileRecord()).pid).toBe(winners[0]!.pid);
      for (const racer of racers) racer.stdin.end();
      await Promise.all(racers.map((racer) => once(racer, 'exit')));
      expect(await readdir(dataDir)).toEqual([]);
    }
  }, 60_000);

  it('knows a running pid from a gone one', async () => {
    expect(isRunning(process.ppid)).toBe(true);
    expect(isRunning(await exitedPid())).toBe(false);
  });
});
