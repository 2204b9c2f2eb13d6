// Internal: a PgBouncer of the test's own, in front of a PostgreSQL server,
// on a free port, with an ini file written to a temporary directory. Never
// the system's service (Debian's package installs one; it is left alone).
// Plain JavaScript: the global setup (TEST_THROUGH_PGBOUNCER=1) loads it
// outside Jest's transform, and test files import it too.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** How to install it (Debian and Ubuntu; .ci/run does this). */
export const INSTALL_PGBOUNCER = 'sudo apt-get install -y pgbouncer';

/**
 * The pgbouncer binary: PGBOUNCER_PATH, else the first on PATH, else
 * /usr/sbin/pgbouncer, where Debian puts it (not on a user's PATH).
 */
export function findPgBouncer() {
  const candidates = [
    process.env.PGBOUNCER_PATH,
    ...(process.env.PATH ?? '').split(path.delimiter).map((directory) => directory && path.join(directory, 'pgbouncer')),
    '/usr/sbin/pgbouncer',
  ].filter(Boolean);
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there: the next one.
    }
  }
  throw new Error(`These tests start a PgBouncer of their own and found none (looked in PGBOUNCER_PATH, PATH and /usr/sbin): ${INSTALL_PGBOUNCER}`);
}

/** PgBouncer refuses to run as root: as root it is started with `-u` as the postgres system user (or nobody). */
function serverUser() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }));
      return { name, uid, gid };
    } catch {
      // No such user: the next one.
    }
  }
  throw new Error('Running as root, and PgBouncer refuses to run as root: create a postgres system user, or run the tests as another user.');
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// An ini value: PgBouncer's parser takes the rest of the line; a quote or a
// line break in a value would change the file's meaning, so none is taken.
function iniValue(name, value) {
  const text = String(value);
  if (/[\n\r]/.test(text)) throw new Error(`startPgBouncer: ${name} must fit on one line (got ${JSON.stringify(text)})`);
  return text;
}

/**
 * Starts PgBouncer in front of the server of `serverUrl` (its host, port,
 * user and password), resolving once its admin console answers.
 *
 * @param {import('./pgbouncer.d.mts').PgBouncerOptions} options
 * @returns {Promise<import('./pgbouncer.d.mts').OwnPgBouncer>}
 */
export async function startPgBouncer(options) {
  const binary = findPgBouncer();
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const directory = await mkdtemp(path.join(tmpdir(), 'parley-pgbouncer-'));
  const runAs = serverUser();

  // Every database of the server through one entry: `*` makes a pool per
  // database on first use (each test file's own database).
  const databases = {
    '*': `host=${server.hostname} port=${server.port || 5432}`,
    ...options.databases,
  };
  const settings = {
    listen_addr: '127.0.0.1',
    listen_port: port,
    // TCP only: no socket file in a shared directory.
    unix_socket_dir: '',
    // trust: whoever connects is let in as the user they name, if auth_file
    // lists it; PgBouncer logs in to the server with the password there.
    auth_type: 'trust',
    auth_file: path.join(directory, 'users.txt'),
    admin_users: user,
    stats_users: user,
    pool_mode: 'transaction',
    default_pool_size: 10,
    max_client_conn: 500,
    // Round robin, not PgBouncer's default LIFO: consecutive transactions of
    // one client land on different server connections whenever more than
    // one is idle, so anything that leans on a session (a SET, a session
    // lock, a named prepared statement, a backend pid) fails at once
    // instead of now and then.
    server_round_robin: 1,
    // Connections of a test file's database are not kept once it is done.
    server_idle_timeout: 10,
    log_connections: 0,
    log_disconnections: 0,
    ...options.settings,
  };
  const ini = [
    '[databases]',
    ...Object.entries(databases).map(([name, value]) => `${name} = ${iniValue(name, value)}`),
    '[pgbouncer]',
    ...Object.entries(settings).map(([name, value]) => `${name} = ${iniValue(name, value)}`),
    '',
  ].join('\n');
  const iniPath = path.join(directory, 'pgbouncer.ini');
  await writeFile(iniPath, ini);
  await writeFile(settings.auth_file, `"${user.replaceAll('"', '""')}" "${password.replaceAll('"', '""')}"\n`, { mode: 0o600 });
  if (runAs) {
    for (const file of [directory, iniPath, settings.auth_file]) await chown(file, runAs.uid, runAs.gid);
  }

  const child = spawn(binary, [...(runAs ? ['-u', runAs.name] : []), iniPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  child.stderr.on('data', (chunk) => {
    log.push(String(chunk));
    if (log.length > 200) log.splice(0, log.length - 200);
  });
  // A test process that ends without closing it does not leave it running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const url = (database = 'postgres') => {
    const address = new URL(options.serverUrl);
    address.hostname = '127.0.0.1';
    address.port = String(port);
    address.pathname = `/${database}`;
    return address.toString();
  };
  const admin = async (statement) => {
    // The admin console speaks the simple query protocol only: no parameters.
    const client = new pg.Client({ connectionString: url('pgbouncer') });
    await client.connect();
    try {
      return (await client.query(statement)).rows;
    } finally {
      await client.end();
    }
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      process.removeListener('exit', killOnExit);
      await rm(directory, { recursive: true, force: true });
      throw new Error(`pgbouncer exited with ${child.exitCode}:\n${log.join('')}`);
    }
    try {
      await admin('SHOW VERSION');
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        process.removeListener('exit', killOnExit);
        await rm(directory, { recursive: true, force: true });
        throw new Error(`pgbouncer did not answer on port ${port} within 10 s (${error.message}):\n${log.join('')}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return {
    port,
    iniPath,
    url,
    admin,
    log: () => log.join(''),
    async close() {
      process.removeListener('exit', killOnExit);
      // SIGTERM: immediate shutdown (SIGINT would wait for clients to leave).
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
