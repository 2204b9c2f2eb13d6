// `npm run bench`: one or two GraphQL operations under concurrent load, each
// against the SQL it sends, in one interleaved run. The client's Inbox
// operation (clients/operations/inbox.graphql, budgets in docs/design.md):
//
//   api        this checkout's build, a child process in production mode
//   floor      the same SQL statements replayed straight through pg, in the
//              same dependency order, same pool settings (its own child)
//   resolvers  the build again with SQL_READS=false: the Inbox answered by
//              its resolvers and loaders, not by one compiled statement
//   unbatched  the build again answering through its resolvers with
//              DATALOADER_BATCH=false
//   quiet      the build again with its observability off (METRICS=off, the
//              request log and slow logs off): what /metrics and the log cost
//   baseline   with --baseline <ref>: another commit's build (today's main)
//   after-write      the build with the loader cache on (LOADER_CACHE, on a
//                    Redis of the benchmark's own) and the response cache
//                    off, while a second instance takes --write-rate
//                    sendMessage per second into random conversations of
//                    the viewer's: the miss chat traffic makes, rebuilt from
//                    what did not change
//   after-write-off  the same writes, the loader cache off: every read cold
//                    (compiled reads: they serve where the loader cache is off)
//
// And the reference query (REFERENCE_QUERY below: the same conversations and
// messages with participants and authors, one statement per level):
//
//   reference        this build serving it (the api mode's server when that
//                    mode runs too, otherwise one started the same way)
//   reference-floor  its own recorded statements replayed through pg
//
// Each round runs every mode once (warm-up, then a counted window), in an
// order rotated from round to round, so that a slow minute of a shared
// machine falls on all of them. Prints and writes bench/results/<date>.json
// and .md: throughput, latency percentiles, CPU per request, graphqlOverFloor
// (floor ÷ API requests/s, the Inbox), referenceOverFloor (the same for the
// reference query), sqlReadsSpeedup, batchingSpeedup, and the inbox page statement's time for
// the heaviest and the median viewer with its EXPLAIN ANALYZE. --profile then
// runs the API (and the baseline) under node --cpu-prof and prints the top
// self-time functions.
//
// BENCH_DATABASE_URL (default: a `parley_bench` database on TEST_POSTGRES_URL's
// server) is created if missing, migrated, and seeded once per scale.
//
// The load comes from this process, which `npm run bench` starts with
// --no-memory-reducer: idle through another mode's window, V8 shrank its heap,
// and in the next window it ran a mark-compact every half second (the Inbox's
// load then cost 1.3 ms more of the shared cores per request: 1.8 against 0.5).
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { print } from 'graphql';
import { request } from 'undici';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { InboxDocument } from '../src/generated/graphql/operations.js';
import { createApp } from '../src/app/create-app.js';
import { createAuth } from '../src/graphql/auth.js';
import { createServer } from '../src/http/server.js';
import { toGlobalId } from '../src/graphql/relay/global-id.js';
import { startOwnRedis } from '../test/support/redis-server.js';
import { prepareBaseline, type Baseline } from './baseline.js';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { benchDatabaseUrl, createDatabaseIfMissing, findViewers, forgetBenchScale, prepareBenchDatabase } from './database.js';
import { startFloor } from './floor.js';
import { timeInboxPages } from './inbox-page.js';
import { loadGraphQL, type LoadSample, type LoadWindow } from './load.js';
import { buildCheckout, METRICS_TOKEN, metricSum, newestProfile, scrapeMetrics, startServer, type ServerProcess } from './server-process.js';
import { describePlan, recordStatements, type PlannedStatement } from './statement-plan.js';
import { spreadOf, summarizeLatencies, type Spread } from './stats.js';
import { renderReport, type BenchResults, type ModeFigures } from './report.js';
import { benchArguments } from './arguments.js';

const USAGE = `Usage: npm run bench -- [options]
  --rounds N          interleaved rounds (default 3)
  --duration S        counted seconds per mode and round (default 10)
  --warmup S          uncounted seconds before each window (default 3)
  --first-warmup S    uncounted seconds before each mode's first window instead (default 10: a fresh server's code is not optimized yet)
  --connections N     concurrent connections (default 16)
  --modes LIST        of api,floor,resolvers,unbatched,quiet,after-write,after-write-off (the Inbox operation) and
                      reference,reference-floor (the reference query) (default the first three; "none": only the page timings;
                      the after-write modes change the data, so not with a floor)
  --write-rate N      messages per second into the viewer's conversations in the after-write modes (default 1)
  --baseline REF      also measure a build of another commit (e.g. main)
  --profile           afterwards, a CPU profile of the API (and the baseline) under the same load
  --node-flags=S      node flags for this build's servers only, after npm start's own (a later V8 flag wins;
                      NODE_OPTIONS would not: npm start's --max-semi-space-size overrode it), to measure one against the baseline
  --page-samples N    round trips of the inbox page statement per viewer (default 200)
  --users N --conversations N --messages N --seed S   the data (default 10000, 50000, 1000000, 7)
  --label TEXT        appended to the results' file names`;

const { values: options, whole } = benchArguments(USAGE, {
  rounds: { type: 'string', default: '3' },
  duration: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '3' },
  'first-warmup': { type: 'string', default: '10' },
  connections: { type: 'string', default: '16' },
  modes: { type: 'string', default: 'api,floor,resolvers' },
  baseline: { type: 'string' },
  profile: { type: 'boolean', default: false },
  'node-flags': { type: 'string' },
  'page-samples': { type: 'string', default: '200' },
  'write-rate': { type: 'string', default: '1' },
  users: { type: 'string', default: '10000' },
  conversations: { type: 'string', default: '50000' },
  messages: { type: 'string', default: '1000000' },
  seed: { type: 'string', default: '7' },
  label: { type: 'string' },
});

const positive = (name: string, value: string | undefined): number => whole(name, value, 1);
const ROUNDS = positive('rounds', options.rounds);
const WINDOW: LoadWindow = {
  warmupMs: positive('warmup', options.warmup) * 1000,
  durationMs: positive('duration', options.duration) * 1000,
  connections: positive('connections', options.connections),
};
/**
 * The first round's windows: a server just started runs its first requests
 * before V8 has optimized them, and on a slow or busy machine the usual
 * warm-up left the first round of every server 1.5-1.8x dearer in CPU per
 * request than the next two.
 */
const FIRST_WINDOW: LoadWindow = { ...WINDOW, warmupMs: Math.max(WINDOW.warmupMs, whole('first-warmup', options['first-warmup'], 0) * 1000) };
const PAGE_SAMPLES = positive('page-samples', options['page-samples']);
const WRITE_RATE = positive('write-rate', options['write-rate']);
const SCALE = {
  users: positive('users', options.users),
  conversations: positive('conversations', options.conversations),
  messages: positive('messages', options.messages),
  seed: Number(options.seed),
};
const KNOWN_MODES = ['api', 'floor', 'resolvers', 'unbatched', 'quiet', 'after-write', 'after-write-off', 'reference', 'reference-floor'] as const;
const requestedModes = options.modes === 'none' ? [] : options.modes.split(',').map((mode) => mode.trim());
for (const mode of requestedModes) {
  if (!(KNOWN_MODES as readonly string[]).includes(mode)) {
    console.error(`--modes: unknown mode ${JSON.stringify(mode)}, expected some of ${KNOWN_MODES.join(',')} or none\n\n${USAGE}`);
    process.exit(2);
  }
}
// The after-write modes' messages change the inbox every later window reads
// (short messages take its top, the answer shrinks), while a floor replays
// the statements of the first request, recorded before any write: a ratio
// between the two would compare different data.
if (requestedModes.some((mode) => mode.startsWith('after-write')) && requestedModes.some((mode) => mode.endsWith('floor'))) {
  console.error(`--modes: the after-write modes change the data the API reads, not what a floor replays: measure the floors in a run without them\n\n${USAGE}`);
  process.exit(2);
}
type Mode = (typeof KNOWN_MODES)[number] | 'baseline';
const modes: Mode[] = [...(requestedModes as Mode[]), ...(options.baseline && requestedModes.length > 0 ? (['baseline'] as const) : [])];

/**
 * The reference query: the Inbox's conversations and messages with their
 * participants and authors, and nothing the Inbox adds (the viewer's
 * profile and stats, last message, unread counts, the authors' stats), so
 * that it sends one statement per level: the viewer, the inbox page, the
 * participants, the message pages with their authors joined.
 */
const REFERENCE_QUERY = `query Reference($conversations: Int!, $messages: Int!) {
  viewer {
    conversations(first: $conversations) {
      edges {
        node {
          id
          title
          participants { id username displayName }
          messages(first: $messages) { edges { node { id body createdAt author { id username displayName } } } }
        }
      }
    }
  }
}`;
type OperationName = 'Inbox' | 'Reference';
/** The operation a mode sends: the reference modes the reference query, every other the Inbox. */
const operationOf = (mode: Mode): OperationName => (mode === 'reference' || mode === 'reference-floor' ? 'Reference' : 'Inbox');
// With no mode under load ("none"), the Inbox still describes the run: the page timed is its page.
const measured: OperationName[] = modes.length > 0 ? [...new Set(modes.map(operationOf))] : ['Inbox'];

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const benchUrl = benchDatabaseUrl('parley_bench');
const JWT_SECRET = 'parley-bench-secret-0123456789abcdef';
const VARIABLES = { conversations: 50, messages: 20 };
const say = (line: string) => console.error(`bench: ${line}`);

// The data.
await createDatabaseIfMissing(benchUrl);
// Uncached throughput: the response cache stays off in every server measured here.
const setupConfig = loadConfig({ NODE_ENV: 'production', LOG_LEVEL: 'silent', DATABASE_URL: benchUrl, JWT_SECRET, RESPONSE_CACHE: 'off', LOADER_CACHE: 'off' });
const pool = createPool(benchUrl, setupConfig.database, { applicationName: 'parley-bench' });
await prepareBenchDatabase(pool, benchUrl, SCALE, say);
const viewers = await findViewers(pool, VARIABLES.conversations);
const { rows: versionRows } = await pool.query<{ server_version: string }>('SHOW server_version');
const auth = createAuth({ secret: JWT_SECRET, ttlSeconds: 24 * 3600 });
const token = await auth.issueToken(viewers.heaviest.userId);
const requestBodies: Record<OperationName, string> = {
  Inbox: JSON.stringify({ query: print(InboxDocument), variables: VARIABLES }),
  Reference: JSON.stringify({ query: REFERENCE_QUERY, variables: VARIABLES }),
};
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

// The statements of one request of each operation measured, recorded in-process from this checkout's code.
const captures = new Map<OperationName, { plan: PlannedStatement[]; body: string }>();
{
  const app = await createApp(setupConfig, { pool });
  const { fastify } = await createServer(app);
  for (const operation of measured) {
    const inject = () => fastify.inject({ method: 'POST', url: '/graphql', headers, payload: requestBodies[operation] });
    await inject();
    const stopRecording = recordStatements(pool);
    const response = await inject();
    const plan = stopRecording();
    // Both operations answer the viewer's conversations at the top: a page short of them measures another answer.
    const answer = JSON.parse(response.body) as { errors?: unknown; data?: { viewer?: { conversations?: { edges: unknown[] } } } };
    if (answer.errors || answer.data?.viewer?.conversations?.edges.length !== VARIABLES.conversations) {
      throw new Error(`the ${operation} operation did not answer ${VARIABLES.conversations} conversations: ${response.body.slice(0, 500)}`);
    }
    say(`the ${operation} operation sends ${plan.length} statements:\n${describePlan(plan).join('\n')}`);
    captures.set(operation, { plan, body: response.body });
  }
  await fastify.close();
  await app.close();
}

// The processes under test.
const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'schema', 'prisma', 'package.json'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
const needsBuild = modes.some((mode) => mode !== 'floor' && mode !== 'reference-floor' && mode !== 'baseline') || options.profile;
if (needsBuild) {
  say('building this checkout…');
  await buildCheckout(ROOT);
}
let baseline: Baseline | undefined;
if (options.baseline) {
  say(`building the baseline ${options.baseline}…`);
  baseline = await prepareBaseline(ROOT, options.baseline);
}
const stamp = new Date().toISOString().slice(0, 10);
const fileStem = `${stamp}${options.label ? `-${options.label}` : ''}`;
await mkdir(RESULTS_DIR, { recursive: true });
const logFile = path.join(os.tmpdir(), `parley-bench-${fileStem}.log`);

/** Sends `operation` to the server at `origin` (`who`, for the error) once and checks the answer: every answer under load must have its size. */
async function answerOf(origin: string, operation: OperationName, who: string): Promise<{ body: string; expectedBytes: number }> {
  const response = await request(`${origin}/graphql`, { method: 'POST', headers, body: requestBodies[operation] });
  const body = await response.body.text();
  if (response.statusCode !== 200 || (JSON.parse(body) as { errors?: unknown }).errors) {
    throw new Error(`${who} answered the ${operation} operation with ${response.statusCode}: ${body.slice(0, 500)}`);
  }
  return { body, expectedBytes: Buffer.byteLength(body) };
}

async function startApi(
  root: string,
  env: Record<string, string> = {},
  cpuProfileDir?: string,
  operation: OperationName = 'Inbox',
): Promise<ServerProcess & { expectedBytes: number; body: string }> {
  const nodeFlags = root === ROOT && options['node-flags'] ? options['node-flags'].split(' ').filter(Boolean) : [];
  const server = await startServer({ root, databaseUrl: benchUrl, jwtSecret: JWT_SECRET, env: { ...NO_REFRESH, ...env }, nodeFlags, logFile, cpuProfileDir });
  try {
    return { ...server, ...(await answerOf(server.origin, operation, `the server in ${root}`)) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * The statistics views' scheduled refresh off in every server here: it costs
 * PostgreSQL seconds of CPU every 5 minutes, which would fall on whichever
 * window of a long run it met, and the floor has none.
 */
const NO_REFRESH = { STATS_REFRESH_INTERVAL_SECONDS: '0' };

/** This build with everything observability/ adds turned off: no metrics, no request line (info), no slow logs. */
const QUIET = { METRICS: 'off', LOG_LEVEL: 'warn', SLOW_STATEMENT_MS: '0', SLOW_OPERATION_MS: '0' };

/** That the api mode is measured with its /metrics on (and the quiet mode without): one scrape, as Prometheus would. */
async function expectMetrics(origin: string, on: boolean): Promise<void> {
  const response = await request(`${origin}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await response.body.text();
  if (on ? response.statusCode !== 200 || !text.includes('http_request_duration_seconds_count{operation="Inbox"') : response.statusCode !== 404) {
    throw new Error(`${origin}/metrics answered ${response.statusCode}, expected ${on ? 'the Inbox measured' : '404 (METRICS=off)'}`);
  }
}

interface ModeRun {
  run(window: LoadWindow): Promise<LoadSample>;
  stop(): Promise<void>;
}

/** Statements per request of each after-write mode's rounds, read from its server's /metrics. */
const statementsPerRound = new Map<Mode, number[]>();

/**
 * What the after-write modes share: a Redis of the benchmark's own, a second
 * instance taking the writes (the invalidations reach the first through
 * Redis, as between two instances in production), and the viewer's
 * conversations with a participant other than the viewer to write as.
 */
async function prepareWrites() {
  const redis = await startOwnRedis();
  const env = { ...NO_REFRESH, REDIS_URL: redis.url, RESPONSE_CACHE: 'off', LOADER_CACHE: 'on' };
  const writer = await startServer({ root: ROOT, databaseUrl: benchUrl, jwtSecret: JWT_SECRET, env, logFile });
  const { rows } = await pool.query<{ conversationId: number; authorId: number }>(
    `SELECT mine.conversation_id AS "conversationId", min(other.user_id) AS "authorId"
     FROM conversation_participants mine
     JOIN conversation_participants other ON other.conversation_id = mine.conversation_id AND other.user_id <> mine.user_id
     WHERE mine.user_id = $1 GROUP BY mine.conversation_id`,
    [viewers.heaviest.userId],
  );
  const targets = await Promise.all(
    rows.map(async (row) => ({ conversationId: toGlobalId('Conversation', row.conversationId), token: await auth.issueToken(row.authorId) })),
  );
  let sent = 0;
  /** Sends `rate` messages per second until the returned function is called; it resolves when the last has answered. */
  const writeAtRate = (rate: number) => {
    const pending = new Set<Promise<void>>();
    let failure: Error | undefined;
    const timer = setInterval(() => {
      const target = targets[Math.floor(Math.random() * targets.length)]!;
      const body = JSON.stringify({ query: SEND_MESSAGE, variables: { id: target.conversationId, body: `after-write ${(sent += 1)}` } });
      const write = request(`${writer.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        body,
      })
        .then(async (response) => {
          const text = await response.body.text();
          if (response.statusCode !== 200 || text.includes('"errors"')) failure ??= new Error(`a write answered ${response.statusCode}: ${text.slice(0, 300)}`);
        })
        .finally(() => pending.delete(write));
      pending.add(write);
    }, 1000 / rate);
    return async () => {
      clearInterval(timer);
      await Promise.all(pending);
      if (failure) throw failure;
    };
  };
  return {
    env,
    writeAtRate,
    async stop() {
      await writer.stop();
      await redis.close();
    },
  };
}
const SEND_MESSAGE = 'mutation AfterWrite($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }';
let writes: Awaited<ReturnType<typeof prepareWrites>> | undefined;
const runners = new Map<Mode, ModeRun>();
// The after-write modes' messages change the conversations every mode reads (Inbox and reference query alike): then no answer has a fixed size.
const answersChange = modes.includes('after-write') || modes.includes('after-write-off');
const answers: Partial<Record<Mode, string>> = {};
// The reference mode asks the api mode's server when both run: one process serving both operations, by turns.
const apiServer = modes.includes('api') ? await startApi(ROOT) : undefined;
for (const mode of modes) {
  if (mode === 'floor' || mode === 'reference-floor') {
    const floor = await startFloor(benchUrl, captures.get(operationOf(mode))!.plan);
    runners.set(mode, { run: (window) => floor.run(window), stop: () => floor.stop() });
    continue;
  }
  if (mode === 'after-write' || mode === 'after-write-off') {
    writes ??= await prepareWrites();
    const shared = writes;
    const server = await startApi(ROOT, { ...shared.env, LOADER_CACHE: mode === 'after-write' ? 'on' : 'off' });
    const target = { origin: server.origin, body: requestBodies.Inbox, headers, expectedBytes: null };
    statementsPerRound.set(mode, []);
    runners.set(mode, {
      async run(window) {
        const before = await scrapeMetrics(server.origin);
        const stopWriting = shared.writeAtRate(WRITE_RATE);
        const sample = await loadGraphQL(target, window, server.pid).finally(stopWriting);
        const after = await scrapeMetrics(server.origin);
        const reads = metricSum(after, 'graphql_operations_total', 'operation="Inbox"') - metricSum(before, 'graphql_operations_total', 'operation="Inbox"');
        const statements = metricSum(after, 'sql_statements_total') - metricSum(before, 'sql_statements_total');
        statementsPerRound.get(mode)!.push(reads > 0 ? statements / reads : Number.NaN);
        return sample;
      },
      stop: () => server.stop(),
    });
    continue;
  }
  if (mode === 'reference') {
    const server = apiServer ?? (await startApi(ROOT, {}, undefined, 'Reference'));
    const { expectedBytes } = server === apiServer ? await answerOf(server.origin, 'Reference', "the api mode's server") : server;
    const target = { origin: server.origin, body: requestBodies.Reference, headers, expectedBytes: answersChange ? null : expectedBytes };
    // A server shared with the api mode is stopped by that mode.
    runners.set(mode, { run: (window) => loadGraphQL(target, window, server.pid), stop: () => (server === apiServer ? Promise.resolve() : server.stop()) });
    continue;
  }
  const server =
    mode === 'api'
      ? apiServer!
      : mode === 'unbatched'
        ? await startApi(ROOT, { DATALOADER_BATCH: 'false', SQL_READS: 'false' })
        : mode === 'resolvers'
          ? await startApi(ROOT, { SQL_READS: 'false' })
          : mode === 'quiet'
            ? await startApi(ROOT, QUIET)
            : await startApi(baseline!.root);
  if (mode === 'api' || mode === 'quiet') await expectMetrics(server.origin, mode === 'api');
  answers[mode] = server.body;
  const target = { origin: server.origin, body: requestBodies.Inbox, headers, expectedBytes: answersChange ? null : server.expectedBytes };
  runners.set(mode, { run: (window) => loadGraphQL(target, window, server.pid), stop: () => server.stop() });
}

// The interleaved rounds.
const rounds: Partial<Record<Mode, LoadSample>>[] = [];
try {
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = modes.map((_mode, index) => modes[(index + round) % modes.length]!);
    const results: Partial<Record<Mode, LoadSample>> = {};
    for (const mode of order) {
      results[mode] = await runners.get(mode)!.run(round === 0 ? FIRST_WINDOW : WINDOW);
      say(`round ${round + 1}/${ROUNDS} ${mode}: ${results[mode].throughput.toFixed(1)} req/s`);
    }
    rounds.push(results);
  }
} finally {
  for (const runner of runners.values()) await runner.stop();
}

const figures: Partial<Record<Mode, ModeFigures>> = {};
for (const mode of modes) {
  const samples = rounds.map((round) => round[mode]!);
  /** A figure of every round, or null where a round lacks it. */
  const everyRound = (read: (sample: LoadSample) => number | null | undefined): Spread | null => {
    const values = samples.map(read).filter((value): value is number => typeof value === 'number');
    return values.length === samples.length ? spreadOf(values) : null;
  };
  figures[mode] = {
    operation: operationOf(mode),
    throughput: spreadOf(samples.map((sample) => sample.throughput)),
    latency: summarizeLatencies(samples.flatMap((sample) => sample.latencies)),
    cpuMsPerRequest: everyRound((sample) => sample.cpuMsPerRequest),
    postgresCpuMsPerRequest: everyRound((sample) => sample.postgresCpuMsPerRequest),
    loadCpuMsPerRequest: everyRound((sample) => sample.loadCpuMsPerRequest),
    machineBusy: everyRound((sample) => sample.machineBusy),
    statementsPerRequest: statementsPerRound.has(mode) ? spreadOf(statementsPerRound.get(mode)!) : undefined,
    perRound: samples.map((sample) => {
      const latency = summarizeLatencies(sample.latencies);
      return { throughput: sample.throughput, p50: latency.p50, p95: latency.p95, p99: latency.p99, cpuMsPerRequest: sample.cpuMsPerRequest };
    }),
  };
}
/** A ratio of two modes' throughput, per round (the rounds are what interleaving pairs up). */
const ratio = (over: Mode, under: Mode): Spread | null =>
  figures[over] && figures[under] ? spreadOf(rounds.map((round) => round[over]!.throughput / round[under]!.throughput)) : null;

// The inbox page statement alone.
say('timing the inbox page statement…');
const pages = await timeInboxPages(pool, [viewers.heaviest, viewers.median, viewers.lightestFullPage], VARIABLES.conversations, PAGE_SAMPLES);
await pool.end();

// Profiles, each under the same load as the rounds, in a server of its own:
// this build (and the after-write mode's, with its writes, when it ran) and the baseline.
type ProfiledMode = 'api' | 'after-write' | 'baseline';
const profiles: { mode: ProfiledMode; file: string; summary: ProfileSummary; throughput: number }[] = [];
try {
  if (options.profile) {
    const profiled: [ProfiledMode, string][] = [
      ['api', ROOT],
      ...(modes.includes('after-write') ? [['after-write', ROOT] as [ProfiledMode, string]] : []),
      ...(baseline ? [['baseline', baseline.root] as [ProfiledMode, string]] : []),
    ];
    for (const [mode, root] of profiled) {
      const directory = path.join(RESULTS_DIR, 'profiles', `${fileStem}-${mode}`);
      say(`profiling ${mode}…`);
      const afterWrite = mode === 'after-write' ? writes! : undefined;
      const server = await startApi(root, afterWrite?.env ?? {}, directory);
      const stopWriting = afterWrite?.writeAtRate(WRITE_RATE);
      const loadStarted = performance.now();
      const target = { origin: server.origin, body: requestBodies.Inbox, headers, expectedBytes: afterWrite ? null : server.expectedBytes };
      // A fresh server: the first round's warm-up.
      const sample = await loadGraphQL(target, FIRST_WINDOW, server.pid);
      await stopWriting?.();
      await server.stop();
      const exited = performance.now();
      const file = await newestProfile(directory);
      // Only the counted window: not start-up, warm-up or shutdown.
      const window = {
        fromMsBeforeEnd: exited - loadStarted - FIRST_WINDOW.warmupMs,
        toMsBeforeEnd: exited - loadStarted - FIRST_WINDOW.warmupMs - WINDOW.durationMs,
      };
      profiles.push({ mode, file: path.relative(ROOT, file), summary: await summarizeProfile(file, window), throughput: sample.throughput });
    }
  }
} finally {
  await writes?.stop();
  // The after-write modes' messages changed the seeded inbox: the next run seeds it again rather than measure another one.
  if (writes) await forgetBenchScale(benchUrl);
}

const results: BenchResults = {
  date: new Date().toISOString(),
  commit,
  uncommittedChanges: dirty,
  baseline: baseline ? { ref: baseline.ref, commit: baseline.commit } : null,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: versionRows[0]!.server_version,
    loadAverage: os.loadavg(),
  },
  data: SCALE,
  variables: VARIABLES,
  viewer: viewers.heaviest,
  operations: [...captures].map(([name, { plan, body }]) => ({
    name,
    responseBytes: Buffer.byteLength(body),
    statements: plan.length,
    statementPlan: describePlan(plan),
  })),
  window: { ...WINDOW, rounds: ROUNDS, firstWarmupMs: FIRST_WINDOW.warmupMs },
  nodeFlags: options['node-flags'] ?? null,
  modes: figures,
  graphqlOverFloor: ratio('floor', 'api'),
  referenceOverFloor: ratio('reference-floor', 'reference'),
  sqlReadsSpeedup: ratio('api', 'resolvers'),
  batchingSpeedup: ratio('resolvers', 'unbatched'),
  apiOverQuiet: ratio('api', 'quiet'),
  apiOverBaseline: ratio('api', 'baseline'),
  afterWriteOverCold: ratio('after-write', 'api'),
  loaderCacheSpeedup: ratio('after-write', 'after-write-off'),
  writeRate: writes ? WRITE_RATE : null,
  answersIdenticalToBaseline: answers.baseline !== undefined && answers.api !== undefined ? answers.baseline === answers.api : null,
  inboxPage: pages.map(({ viewer, roundTrip, executionMs, plan }) => ({ viewer, roundTrip, executionMs, plan })),
  heaviestOverMedianPage: { roundTrip: pages[0]!.roundTrip.p50 / pages[1]!.roundTrip.p50, execution: pages[0]!.executionMs / pages[1]!.executionMs },
  heaviestOverLightestFullPage: { roundTrip: pages[0]!.roundTrip.p50 / pages[2]!.roundTrip.p50, execution: pages[0]!.executionMs / pages[2]!.executionMs },
  profiles,
};

const markdown = renderReport(results);
await writeFile(path.join(RESULTS_DIR, `${fileStem}.json`), `${JSON.stringify(results, null, 2)}\n`);
await writeFile(path.join(RESULTS_DIR, `${fileStem}.md`), markdown);
console.log(markdown);
say(`wrote bench/results/${fileStem}.json and .md (server logs: ${logFile})`);
