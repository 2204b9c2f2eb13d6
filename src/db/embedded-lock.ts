// Internal: the lock file that makes one process the owner of an embedded
// database's folder. PGlite is PostgreSQL in one process with no locking of
// its own: two processes opening the same folder overwrite each other's files
// (seen as `could not open file "base/5/16626"`, then lost tables). So the
// first process writes `parley.lock` into the folder, and every other process
// reads it and either connects through the owner's socket or stops.
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE_NAME = 'parley.lock';

/** What the lock file holds (JSON). */
export interface LockRecord {
  pid: number;
  /** Which command holds it, for messages: `parley-api`, `parley-seed`… */
  name: string;
  /** The port of the owner's socket, once it lets other processes in; null before, and always for a command that keeps the database to itself. */
  port: number | null;
  /** True for the server: other processes may wait for `port` to appear. */
  shares: boolean;
  startedAt: string;
}

export interface HeldLock {
  readonly file: string;
  /** Rewrites the record (atomically: a reader sees the old or the new one, never a part). */
  update(changes: Partial<Pick<LockRecord, 'port'>>): Promise<void>;
  /** Removes the file if it is still this process's. */
  release(): Promise<void>;
}

export type AcquireResult = { acquired: true; lock: HeldLock } | { acquired: false; holder: LockRecord };

export function lockFilePath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE_NAME);
}

/**
 * Takes the lock of `dataDir` for this process, or reports who holds it. A
 * lock whose process is gone (killed, crashed, a container restarted with the
 * same pid as ours) is stale and taken over. The folder must exist.
 */
export async function acquireLock(dataDir: string, record: Omit<LockRecord, 'pid' | 'startedAt'>): Promise<AcquireResult> {
  const file = lockFilePath(dataDir);
  let current: LockRecord = { ...record, pid: process.pid, startedAt: new Date().toISOString() };
  // A few rounds: each lost race means another process changed the file, and
  // the next read sees what it did.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (await createExclusively(file, current)) {
      const onExit = () => releaseSync(file);
      process.once('exit', onExit);
      return {
        acquired: true,
        lock: {
          file,
          async update(changes) {
            current = { ...current, ...changes };
            await writeAtomically(file, current);
          },
          async release() {
            process.removeListener('exit', onExit);
            if ((await readLock(file))?.pid === process.pid) await unlink(file).catch(ignoreMissing);
          },
        },
      };
    }
    const holder = await readLock(file);
    if (holder === undefined) continue; // removed between our two steps
    if (holder !== null && isRunning(holder.pid)) return { acquired: false, holder };
    await removeStale(file, holder);
  }
  throw new Error(`Could not take the lock ${file}: other processes keep changing it.`);
}

/** True while a process with this pid exists (and is not this one: a pid that is ours now cannot be a holder that still runs). */
export function isRunning(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record in the file; undefined when there is no file, null when it cannot be read as one (half a disk write, another tool). */
export async function readLock(file: string): Promise<LockRecord | null | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseRecord(text);
}

function parseRecord(text: string): LockRecord | null {
  try {
    const value = JSON.parse(text) as LockRecord;
    return Number.isSafeInteger(value.pid) && value.pid > 0 ? value : null;
  } catch {
    return null;
  }
}

// Written to a file of its own, then linked to the lock's name: link() fails
// when the name exists, so exactly one process creates the lock, and it
// appears with its whole content.
async function createExclusively(file: string, record: LockRecord): Promise<boolean> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, JSON.stringify(record));
  try {
    await link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temporary).catch(ignoreMissing);
  }
}

async function writeAtomically(file: string, record: LockRecord): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, JSON.stringify(record));
  await rename(temporary, file);
}

// Two processes may find the same stale lock. Each moves the file to a name of
// its own (rename is atomic: only one move finds it). A process that moved a
// record other than the stale one it read, written by a process that took over
// in between, puts it back.
async function removeStale(file: string, stale: LockRecord | null): Promise<void> {
  const moved = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, moved);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const record = parseRecord(await readFile(moved, 'utf8'));
  if (record !== null && record.pid !== stale?.pid && isRunning(record.pid)) {
    await link(moved, file).catch(() => {});
  }
  await unlink(moved).catch(ignoreMissing);
}

// On any exit (process.exit, an uncaught error) a lock left behind would only
// be taken over as stale later; removing it at once keeps messages accurate.
function releaseSync(file: string): void {
  try {
    if (parseRecord(readFileSync(file, 'utf8'))?.pid === process.pid) unlinkSync(file);
  } catch {
    // Gone already, or unreadable: nothing of ours to remove.
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
