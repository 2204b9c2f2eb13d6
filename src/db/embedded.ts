import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, isRunning, lockFilePath, readLock, type HeldLock, type LockRecord } from './embedded-lock.js';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) keeping
 * its data in a folder, served over the PostgreSQL wire protocol on
 * 127.0.0.1 so the rest of Parley talks to it exactly as to a real server.
 *
 * One process at a time may open the folder (see embedded-lock.ts). The
 * server, once ready, lets other processes in through its socket: a
 * `db:seed`, `db:migrate` or `token` run while `npm run dev` is up goes
 * through the server's PGlite. A command that opens the folder itself keeps it
 * to itself (it would take the database away from anyone connected when it
 * exits), and a process that finds it held that way stops with a message.
 */
export interface EmbeddedPostgres {
  /** A postgresql:// URL for `pg` and Prisma. */
  url: string;
  /** `owner`: this process opened the folder; `guest`: it connects through the owner's socket. */
  role: 'owner' | 'guest';
  /** The owner's record, for a guest. */
  owner: LockRecord | undefined;
  /**
   * Lets other processes connect through this process's socket, from now on
   * (the server calls it once the database is migrated and seeded, so that no
   * one else migrates it at the same time). Does nothing for a guest.
   */
  share(): Promise<void>;
  /** Owner: closes the socket and PGlite, then removes the lock. Guest: nothing to do. */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Port of the socket; 0 for any free port. */
  port: number;
  /** Names this process in the lock file and in other processes' messages (`parley-api`, `parley-seed`…). */
  name: string;
  /** True for the server: it will share the folder, and a process that finds it held by a starting server waits for that. */
  shares: boolean;
}

// How long a command waits for a starting server to share the database: a
// first start migrates and seeds, on a busy machine for a while.
const SERVER_START_WAIT_MS = 120_000;

// PGlite is one PostgreSQL session: the socket server queues every client's
// messages onto it and keeps a transaction's statements together. The socket
// takes this many connections from all processes together; each process's
// pool takes at most EMBEDDED_POOL_MAX of them (more would only queue), so the
// server and a few commands fit at once. Past the limit Node closes new
// connections at once ("Connection terminated unexpectedly").
export const EMBEDDED_MAX_CONNECTIONS = 16;
export const EMBEDDED_POOL_MAX = 4;

/** The folder is held by a process that does not share it, or cannot be reached; the message says what to do. */
export class EmbeddedDatabaseBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedDatabaseBusyError';
  }
}

/** Opens the embedded database in `dataDir`: as its owner when no process holds it, else through the owner's socket. */
export async function openEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const deadline = Date.now() + SERVER_START_WAIT_MS;
  let told = false;
  for (;;) {
    const result = await acquireLock(options.dataDir, { name: options.name, port: null, shares: options.shares });
    if (result.acquired) return startOwner(options, result.lock);
    const { holder } = result;
    if (holder.port !== null) return joinOwner(options, holder, holder.port);
    if (!holder.shares) {
      throw new EmbeddedDatabaseBusyError(
        `The embedded database in ${options.dataDir} is in use by ${describe(holder)}, which does not share it. ` +
          'Run this again once it has finished; or start the server first (npm run dev): while it runs, other commands share the database through it.' +
          staleHint(options.dataDir, holder),
      );
    }
    // A server that is starting: it shares the database once migrated and seeded.
    if (Date.now() > deadline) {
      throw new EmbeddedDatabaseBusyError(
        `${describe(holder)} has held the embedded database in ${options.dataDir} for ${SERVER_START_WAIT_MS / 1000} s ` +
          'without opening it to other commands. Is it stuck? Stop it and run this again.' +
          staleHint(options.dataDir, holder),
      );
    }
    if (!told) console.error(`parley: waiting for ${describe(holder)} to open the embedded database in ${options.dataDir} to other commands…`);
    told = true;
    await sleep(200);
  }
}

async function startOwner(options: EmbeddedOptions, lock: HeldLock): Promise<EmbeddedPostgres> {
  // Loaded here, not at the top: a process that joins another's socket, or
  // runs on DATABASE_URL, never loads PGlite's WebAssembly.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite-socket')]);
  let db: InstanceType<typeof PGlite> | undefined;
  let server: InstanceType<typeof PGLiteSocketServer> | undefined;
  try {
    db = await PGlite.create({ dataDir: options.dataDir });
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port, maxConnections: EMBEDDED_MAX_CONNECTIONS });
    await server.start();
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    await lock.release();
    throw error;
  }
  const address = server.getServerConn();
  const port = Number(address.split(':').pop());
  let stopped = false;
  return {
    url: postgresUrl(port),
    role: 'owner',
    owner: undefined,
    async share() {
      if (options.shares) await lock.update({ port });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await server.stop();
        await db.close();
      } finally {
        await lock.release();
      }
    },
  };
}

async function joinOwner(options: EmbeddedOptions, holder: LockRecord, port: number): Promise<EmbeddedPostgres> {
  if (!(await answers(port))) {
    // The holder runs but its socket is gone: it is closing, or the pid now
    // belongs to another program. Either way, nothing to connect to.
    if (!isRunning(holder.pid) || (await readLock(lockFilePath(options.dataDir)))?.pid !== holder.pid) {
      return openEmbeddedPostgres(options);
    }
    throw new EmbeddedDatabaseBusyError(
      `The embedded database in ${options.dataDir} is held by ${describe(holder)}, but nothing answers on its port ${port}. ` +
        'If that process is closing, run this again in a moment.' +
        staleHint(options.dataDir, holder),
    );
  }
  return {
    url: postgresUrl(port),
    role: 'guest',
    owner: holder,
    async share() {},
    async stop() {},
  };
}

function postgresUrl(port: number): string {
  return `postgresql://postgres:postgres@127.0.0.1:${port}/postgres?sslmode=disable`;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function describe(holder: LockRecord): string {
  return `${holder.name} (pid ${holder.pid}, since ${holder.startedAt})`;
}

function staleHint(dataDir: string, holder: LockRecord): string {
  return `\n(If pid ${holder.pid} is not a Parley process, the lock was left behind: delete ${lockFilePath(dataDir)}.)`;
}
