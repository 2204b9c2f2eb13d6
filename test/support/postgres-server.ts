// Internal: a PostgreSQL server of a test file's own, in a temporary
// directory on a free port, for tests that stop it or kill its connections.
// The shared server the other tests use is never treated that way.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface OwnPostgres {
  port: number;
  /** The URL of a database on this server (default: postgres). */
  url(database?: string): string;
  /** Runs one statement on its own connection, closed at once: nothing idles in the test's process to be killed. */
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<Row[]>;
  /** Stops the server as an operator does (`pg_ctl stop -m fast`): connections are terminated, new ones refused. */
  stop(): Promise<void>;
  /** Starts it again; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it and deletes its directory. */
  destroy(): Promise<void>;
}

/** The directory of initdb and pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin. */
function findPostgresBinaries(): string {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // No pg_config on PATH: look where Debian's packages put the binaries.
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debian, version, 'bin')));
  }
  const found = candidates.find((directory) => existsSync(join(directory, 'initdb')) && existsSync(join(directory, 'pg_ctl')));
  if (!found) {
    throw new Error(
      'These tests start a PostgreSQL server of their own and need its binaries (initdb, pg_ctl): install PostgreSQL ' +
        `(Debian: apt-get install postgresql) or put pg_config on PATH. Looked in: ${candidates.join(', ') || 'nothing found'}.`,
    );
  }
  return found;
}

/** PostgreSQL refuses to run as root: as root, the server runs as the postgres system user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    return { uid, gid };
  } catch {
    throw new Error('Running as root, and PostgreSQL refuses to run as root: create a postgres system user, or run the tests as another user.');
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no free TCP port');
  return address.port;
}

export interface OwnPostgresOptions {
  /**
   * Server settings, each passed as `-c name=value` at every start, e.g.
   * `{ shared_preload_libraries: 'pg_stat_statements' }`. Default: none
   * beyond the quick-start ones below.
   */
  settings?: Record<string, string | number>;
  /**
   * Makes this server a hot standby of `standbyOf`, streaming from it: its
   * data directory is a base backup of that server (`pg_basebackup -R`,
   * which writes standby.signal and primary_conninfo) instead of a new
   * cluster. initdb's pg_hba.conf lets replication connections in from
   * 127.0.0.1, and wal_level is replica by default. Default: a primary.
   */
  standbyOf?: OwnPostgres;
}

// pg_ctl hands its -o string to a shell-like splitter: a value with spaces or
// quotes would be cut or reinterpreted, so only plain values are taken.
const PLAIN_SETTING = /^[A-Za-z0-9_.,:/+-]+$/;

function settingFlags(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([name, value]) => {
      if (!/^[a-z_.]+$/.test(name) || !PLAIN_SETTING.test(String(value))) {
        throw new Error(`startOwnPostgres: setting ${name}=${JSON.stringify(value)} must be a plain name and a value without spaces or quotes`);
      }
      return ` -c ${name}=${value}`;
    })
    .join('');
}

/** initdb (or pg_basebackup, for a standby), then start: about a second. Call destroy() when done. */
export async function startOwnPostgres(options: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const extraSettings = settingFlags(options.settings ?? {});
  const bin = findPostgresBinaries();
  const user = serverUser();
  const directory = await mkdtemp(join(tmpdir(), 'parley-pg-'));
  if (user) await chown(directory, user.uid, user.gid);
  const data = join(directory, 'data');
  const port = await freePort();
  const log = join(directory, 'server.log');
  const tool = async (name: string, args: string[]) => {
    try {
      await run(join(bin, name), args, { ...user, cwd: directory });
    } catch (error) {
      const output = existsSync(log) ? await readFile(log, 'utf8') : '';
      throw new Error(`${name} ${args.join(' ')} failed: ${(error as Error).message}\n${output}`, { cause: error });
    }
  };

  if (options.standbyOf) {
    const from = ['-h', '127.0.0.1', '-p', String(options.standbyOf.port), '-U', 'postgres'];
    await tool('pg_basebackup', [...from, '-D', data, '--write-recovery-conf', '--wal-method=stream', '--checkpoint=fast', '--no-sync']);
  } else {
    await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  }
  // Durability is not what these tests are about: fsync off makes start and stop quick.
  const serverFlags = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=40${extraSettings}`;
  const start = () => tool('pg_ctl', ['start', '-w', '-D', data, '-l', log, '-o', serverFlags]);
  const stop = () => tool('pg_ctl', ['stop', '-w', '-D', data, '-m', 'fast']);
  await start();

  const url = (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  let running = true;
  return {
    port,
    url,
    async query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database?: string) {
      const client = new pg.Client({ connectionString: url(database) });
      await client.connect();
      try {
        return (await client.query<Row>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async stop() {
      await stop();
      running = false;
    },
    async start() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => {});
      running = false;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
