// Internal: Parley servers for `npm run bench`, each a child process running
// a build (dist/main.js) in production mode, as deployed, so the load
// generator never shares the server's event loop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

/** The token of the servers' /metrics (METRICS=token, as production wants it). */
export const METRICS_TOKEN = 'parley-bench-metrics-0123456789';

/** A server's /metrics, as Prometheus would scrape it (with the token). */
export async function scrapeMetrics(origin: string): Promise<string> {
  const response = await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  return response.text();
}

/**
 * The sum of a metric's samples in a /metrics text: `name` alone, or with
 * its labels as printed (`realtime_subscriptions{field="messageAdded"}`),
 * and only samples whose line includes `having`. 0 when there are none
 * (prom-client prints no series before its first observation).
 */
export function metricSum(text: string, name: string, having = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(having)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface ServerProcess {
  origin: string;
  pid: number;
  /** SIGTERM, then waits for the exit (the server drains; a CPU profile is written on exit). */
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** A checkout whose dist/ holds a build (see buildCheckout). */
  root: string;
  databaseUrl: string;
  jwtSecret: string;
  /** Added to the production environment (DATALOADER_BATCH, …). */
  env?: Record<string, string>;
  /** Where `node --cpu-prof` writes the profile; unset: no profiling. */
  cpuProfileDir?: string;
  /** Node flags added before dist/main.js (for example --inspect=127.0.0.1:<port>). */
  nodeFlags?: string[];
  /** The server's output (its log lines) goes to this file. */
  logFile: string;
}

/** Builds a checkout (tsc, as `npm run build`) with the project's own compiler. */
export async function buildCheckout(root: string): Promise<void> {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the build of ${root} failed (tsc exited with ${code})`);
}

/** A TCP port nothing listens on now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * The flags `npm start` of the checkout at `root` gives node before
 * dist/main.js (V8's heap settings): each build is measured as it runs in
 * production, an older one without the flags it did not have.
 */
export async function startFlags(root: string): Promise<string[]> {
  const { scripts } = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const start = scripts?.start?.match(/^node((?: --[\w-]+(?:=\S+)?)*) dist\/main\.js$/);
  return start?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

/** Starts a server and waits until /ready answers (it migrates the database first, as in production). */
export async function startServer(options: ServerOptions): Promise<ServerProcess> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const log = createWriteStream(options.logFile, { flags: 'a' });
  await once(log, 'open');
  if (options.cpuProfileDir) await mkdir(options.cpuProfileDir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(await startFlags(options.root)),
      ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
      ...(options.nodeFlags ?? []),
      'dist/main.js',
    ],
    {
      cwd: options.root,
      stdio: ['ignore', log, log],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: options.databaseUrl,
        JWT_SECRET: options.jwtSecret,
        // What is measured is execution: every request runs (a build without the cache ignores this).
        RESPONSE_CACHE: 'off',
        LOADER_CACHE: 'off',
        // One viewer at 16 connections spends its default budget in seconds:
        // the limiter still runs (its cost is measured), it just never refuses.
        RATE_LIMIT_POINTS: '1000000000',
        // Sixteen requests share nine connections, and a slow build on a busy
        // machine can make one wait longer than the default 5 s for one: it
        // would answer SERVICE_UNAVAILABLE for fields, which the benchmark
        // counts as a failure. It measures throughput, not that timeout.
        DATABASE_CONNECTION_TIMEOUT_MS: '60000',
        // Measured as deployed: /metrics on, behind its token (a build without it ignores these).
        METRICS: 'token',
        METRICS_TOKEN,
        ...options.env,
      },
    },
  );
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the server in ${options.root} exited while starting: see ${options.logFile}`);
    const ready = await fetch(`${origin}/ready`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server in ${options.root} was not ready after 60 s: see ${options.logFile}`);
    }
    await sleep(200);
  }
  return {
    origin,
    pid: child.pid!,
    async stop() {
      if (!exited) {
        const exit = once(child, 'exit');
        child.kill('SIGTERM');
        await exit;
      }
      log.end();
    },
  };
}

/** The newest .cpuprofile in a directory (node names them by time and pid). */
export async function newestProfile(directory: string): Promise<string> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.cpuprofile')).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile in ${directory}: did the server exit cleanly?`);
  return path.join(directory, files.at(-1)!);
}
