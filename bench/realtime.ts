// `npm run bench:realtime -- [--subscribers 1000,5000,10000] [--rates 1000,2500,5000]` (--help for all):
// subscriptions under load, as docs/realtime.md promises them, on two
// instances of the production build sharing one Redis:
//
//   A  holds the subscribers: N WebSockets, one user each, one
//      `messageAdded` subscription each (its payload resolves the author
//      through the loaders; visibility is checked on every event), spread
//      over group conversations of 2 to 50 participants, every participant
//      subscribed;
//   B  takes the writes: `sendMessage` at a fixed rate of deliveries per
//      second (a message to a conversation of 30 is 30 deliveries), each
//      from a participant of a conversation picked in turn.
//
// The subscribers live in child processes (bench/realtime-clients.ts, at
// most --per-process sockets each). For each N and rate it reports:
// deliveries against what the database says was due (each subscriber must
// receive exactly the messages committed to its conversation, in commit
// order, once); commit-to-client latency p50/p95/p99 (arrival at the client
// minus the message's createdAt, taken at its insert under the
// conversation's lock, so the figure includes the COMMIT); A's CPU per
// delivered event; and, once per N, A's memory per idle subscription (RSS
// and V8 heap, before and after the sockets opened).
//
// Then the kill run: subscribers on a fresh A, messages through B, A killed
// with SIGKILL mid-stream; the clients reconnect to B with the cursor of the
// last message they had, and every message must still arrive exactly once.
//
// Its own database (parley_bench_realtime on TEST_POSTGRES_URL's server,
// unless BENCH_DATABASE_URL) and its own Redis (redis-server on a free port,
// unless BENCH_REDIS_URL). Writes bench/results/<date>-realtime[-label].json
// and .md.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { Pool as HttpPool } from 'undici';
import { migrate } from '../src/db/migrate.js';
import { withTransaction } from '../src/db/transaction.js';
import { createAuth } from '../src/graphql/auth.js';
import { encodeCursor } from '../src/graphql/relay/cursor.js';
import { toGlobalId } from '../src/graphql/relay/global-id.js';
import { startOwnRedis } from '../test/support/redis-server.js';
import { benchDatabaseUrl, createDatabaseIfMissing } from './database.js';
import { buildCheckout, freePort, metricSum, newestProfile, scrapeMetrics, startServer, type ServerProcess } from './server-process.js';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { readCommandCpuMs, readMachineCpuMs, readProcessCpuMs } from './process-cpu.js';
import { summarizeLatencies, type LatencySummary } from './stats.js';
import type { ClientReply, ClientRequest, Collected, Subscriber } from './realtime-clients.js';
import { benchArguments } from './arguments.js';
import { writeResults } from './results-files.js';

const USAGE = `Usage: npm run bench:realtime -- [options]
  --subscribers LIST   subscriber counts, each a run of its own (default 1000,5000,10000)
  --rates LIST         deliveries per second to send at, per subscriber count (default 1000,2500,5000)
  --seconds N          length of each rate's window (default 10)
  --per-process N      WebSockets per client process (default 2500)
  --kill-subscribers N subscribers of the kill run, 0 to skip it (default 1000)
  --kill-rate N        deliveries per second during the kill run (default 1000)
  --cpu-prof           profile A and B (node --cpu-prof) and print their top self-time functions
  --heap-snapshot      write A's heap snapshot with its subscribers idle (after the memory reading), into the logs' directory
  --node-flags=TEXT    more node flags for A and B, for example --node-flags=--trace-gc (their logs' directory is printed;
                       A's start time is printed too, to place its GC trace against the slowest moments)
  --no-build           use the existing dist/ (otherwise: tsc first, as npm start does)
  --label TEXT         appended to the results' file names
Targets (docs/realtime.md): 10,000 subscriptions; 5,000 deliveries/s with p99 ≤ 50 ms; ≤ 20 KB per idle subscription; nothing lost or duplicated.`;

const { values, whole, list } = benchArguments(USAGE, {
  subscribers: { type: 'string', default: '1000,5000,10000' },
  rates: { type: 'string', default: '1000,2500,5000' },
  seconds: { type: 'string', default: '10' },
  'per-process': { type: 'string', default: '2500' },
  'kill-subscribers': { type: 'string', default: '1000' },
  'kill-rate': { type: 'string', default: '1000' },
  'cpu-prof': { type: 'boolean', default: false },
  'node-flags': { type: 'string', default: '' },
  'heap-snapshot': { type: 'boolean', default: false },
  'no-build': { type: 'boolean', default: false },
  label: { type: 'string' },
});
const subscriberCounts = list('subscribers', values.subscribers, 1);
const rates = list('rates', values.rates, 1);
const windowMs = whole('seconds', values.seconds, 1) * 1000;
const perProcess = whole('per-process', values['per-process'], 1);
// 0 skips the kill run.
const killSubscribers = whole('kill-subscribers', values['kill-subscribers'], 0);
const killRate = whole('kill-rate', values['kill-rate'], 1);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => console.log(`[bench:realtime] ${line}`);
const JWT_SECRET = randomBytes(32).toString('hex');
const auth = createAuth({ secret: JWT_SECRET, ttlSeconds: 6 * 3600 });
const SUBSCRIPTION =
  'subscription Added($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id cursor createdAt body author { id displayName } } }';
const SEND = 'mutation Send($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id } } }';
/** Conversation sizes, in turn: 2, 3, … 50, 2, 3, … */
const SMALLEST = 2;
const LARGEST = 50;

// ---------------------------------------------------------------- the data

interface Conversation {
  id: number;
  globalId: string;
  members: number[];
  /** The cursor of its one message before the benchmark: where subscribers start. */
  cursor: string;
}

/**
 * Users 1..max, each in exactly one group conversation, the conversations
 * sized 2, 3, … 50 in turn; one message in each. Written afresh every run.
 */
async function prepareData(pool: pg.Pool, users: number): Promise<Conversation[]> {
  await pool.query('TRUNCATE users, conversations, conversation_participants, messages, user_daily_activity RESTART IDENTITY CASCADE');
  await pool.query(
    `INSERT INTO users (username, display_name, email)
     SELECT 'rt' || g, 'Subscriber ' || g, 'rt' || g || '@bench.invalid' FROM generate_series(1, $1) g`,
    [users],
  );
  const sizes: number[] = [];
  for (let placed = 0, size = SMALLEST; placed < users; size = size === LARGEST ? SMALLEST : size + 1) {
    sizes.push(Math.min(size, users - placed));
    placed += sizes.at(-1)!;
  }
  // A conversation of one (the remainder) would deliver to its author alone: join it to the one before.
  if (sizes.length > 1 && sizes.at(-1)! < SMALLEST) sizes[sizes.length - 2]! += sizes.pop()!;
  const at = new Date(Date.now() - 60_000);
  const conversations: Conversation[] = [];
  let next = 1;
  await withTransaction(pool, async (client) => {
    for (const size of sizes) {
      const members = Array.from({ length: size }, (_unused, index) => next + index);
      next += size;
      const { rows } = await client.query<{ id: number }>(
        `INSERT INTO conversations (title, kind, created_by, created_at, updated_at, last_message_at)
         VALUES ($1, 'group', $2, $3, $3, $3) RETURNING id`,
        [`Room of ${size}`, members[0], at],
      );
      const id = rows[0]!.id;
      await client.query(
        `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, last_activity_at)
         SELECT $1, u, CASE WHEN u = $2 THEN 'owner' ELSE 'member' END, $3, $3 FROM unnest($4::int[]) u`,
        [id, members[0], at, members],
      );
      const message = await client.query<{ id: string }>(
        `INSERT INTO messages (conversation_id, author_id, body, created_at) VALUES ($1, $2, 'hello', $3) RETURNING id`,
        [id, members[0], at],
      );
      conversations.push({ id, globalId: toGlobalId('Conversation', id), members, cursor: encodeCursor({ at, id: message.rows[0]!.id }) });
    }
  });
  await pool.query('VACUUM (ANALYZE) users, conversations, conversation_participants, messages');
  return conversations;
}

/** The conversations holding the first `count` users (whole conversations: a little over `count`). */
function conversationsFor(conversations: Conversation[], count: number): Conversation[] {
  const chosen: Conversation[] = [];
  let members = 0;
  for (const conversation of conversations) {
    if (members >= count) break;
    chosen.push(conversation);
    members += conversation.members.length;
  }
  return chosen;
}

// ---------------------------------------------------------------- services

/** The parts of the run whose CPU each window reports. */
const CPU_PARTS = ['subscribers', 'writer', 'clients', 'postgres', 'redis', 'bench', 'machine'] as const;
type CpuPart = (typeof CPU_PARTS)[number];

/**
 * CPU milliseconds so far of each part of the run (A, B, the client
 * processes, PostgreSQL, Redis, this process, the whole machine's busy
 * time), and the machine's time in all; null where /proc is not there.
 */
function readCpu(a: number, b: number, clients: readonly ClientProcess[]): Record<CpuPart, number | null> & { machineTotal: number | null } {
  const sum = (values: (number | null)[]) => (values.some((value) => value === null) ? null : values.reduce<number>((total, value) => total + value!, 0));
  const machine = readMachineCpuMs();
  return {
    subscribers: readProcessCpuMs(a),
    writer: readProcessCpuMs(b),
    clients: sum(clients.map((client) => readProcessCpuMs(client.child.pid!))),
    postgres: readCommandCpuMs('postgres'),
    redis: readCommandCpuMs('redis-server'),
    bench: readProcessCpuMs(process.pid),
    machine: machine?.busy ?? null,
    machineTotal: machine?.total ?? null,
  };
}
type CpuReading = ReturnType<typeof readCpu>;

/** What a counter grew by between two readings, or null. */
const grew = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before);

/** Each part's share of the machine's two cores over a window, in percent of one core (100 = one core busy all the time). */
function cpuShares(before: CpuReading, after: CpuReading, elapsedMs: number): Record<CpuPart, number | null> {
  const shares = {} as Record<CpuPart, number | null>;
  for (const part of CPU_PARTS) {
    const used = grew(before[part], after[part]);
    shares[part] = used === null ? null : Math.round((100 * used) / elapsedMs);
  }
  return shares;
}

/** The machine's CPU not spent by the run's own processes (other work on the machine, the kernel): a window with much of it was not measured alone. */
function elsewhere(cpu: RateRow['cpu']): number | string {
  const parts = [cpu.subscribers, cpu.writer, cpu.clients, cpu.postgres, cpu.redis, cpu.bench];
  return cpu.machine === null || parts.some((part) => part === null) ? 'n/a' : cpu.machine - parts.reduce<number>((sum, part) => sum + part!, 0);
}

/** A's sent messageAdded events so far, and how many of them within `seconds` of their commit (its commit-to-send histogram). */
function sentWithin(text: string, seconds: number): { count: number; within: number } {
  return {
    count: metricSum(text, 'realtime_commit_to_send_seconds_count{field="messageAdded"}'),
    within: metricSum(text, `realtime_commit_to_send_seconds_bucket{le="${seconds}",field="messageAdded"}`),
  };
}

/**
 * The share of deliveries later than the budget, where A sent them (its
 * histogram, commit to send) and where the clients received them: the
 * difference is time spent between A's socket and the client's handler.
 */
function overBudget(collected: Collected[], before: { count: number; within: number }, after: { count: number; within: number }, budgetMs: number) {
  const latencies = collected.flatMap((reply) => reply.latencies);
  const sent = after.count - before.count;
  return {
    budgetMs,
    sentOverPercent: sent > 0 ? (100 * (sent - (after.within - before.within))) / sent : null,
    receivedOverPercent: latencies.length > 0 ? (100 * latencies.filter((latency) => latency > budgetMs).length) / latencies.length : null,
  };
}

/**
 * A server's memory with its garbage collected first, through the inspector
 * it was started with (--inspect): V8's heap in use and the process's RSS.
 * Without the collection, the heap's figure is mostly garbage not yet
 * collected, and its change per socket means nothing.
 */
async function memoryOf(inspectorPort: number, snapshotFile?: string): Promise<{ rssBytes: number; heapBytes: number }> {
  const [target] = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const socket = new WebSocket(target!.webSocketDebuggerUrl);
  await once(socket, 'open');
  let nextId = 0;
  const call = async (method: string, params: object = {}) => {
    const id = ++nextId;
    socket.send(JSON.stringify({ id, method, params }));
    for (;;) {
      const [data] = (await once(socket, 'message')) as [Buffer];
      const reply = JSON.parse(data.toString()) as { id?: number; result?: { result?: { value?: string } } };
      if (reply.id === id) return reply.result;
    }
  };
  try {
    await call('HeapProfiler.collectGarbage');
    const result = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())' });
    const usage = JSON.parse(result?.result?.value ?? '{}') as { rss: number; heapUsed: number };
    if (snapshotFile) await call('Runtime.evaluate', { expression: `process.getBuiltinModule('v8').writeHeapSnapshot(${JSON.stringify(snapshotFile)})` });
    return { rssBytes: usage.rss, heapBytes: usage.heapUsed };
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------- clients

interface ClientProcess {
  child: ChildProcess;
  ask(request: ClientRequest, expected: ClientReply['type']): Promise<ClientReply>;
  tell(request: ClientRequest): void;
}

function startClients(): ClientProcess {
  const child = fork(new URL('./realtime-clients.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
  });
  return {
    child,
    tell: (request) => void child.send(request),
    async ask(request, expected) {
      child.send(request);
      const [reply] = (await once(child, 'message')) as [ClientReply];
      if (reply.type === 'error') throw new Error(`a client process failed: ${reply.message}`);
      if (reply.type !== expected) throw new Error(`a client process answered ${reply.type}, expected ${expected}`);
      return reply;
    },
  };
}

interface SubscriberSet {
  processes: ClientProcess[];
  /** Subscriber i of process p follows conversations[owners[p][i]]. */
  owners: Conversation[][];
}

/** Opens one subscription per member of `conversations` on `url`, spread over processes. */
/** Every client process started, so a failed run still stops them all. */
const started: ClientProcess[] = [];

async function openSubscribers(conversations: Conversation[], url: string, fallbackUrl?: string): Promise<SubscriberSet> {
  const everyone: { subscriber: Subscriber; conversation: Conversation }[] = [];
  for (const conversation of conversations) {
    for (const member of conversation.members) {
      everyone.push({ subscriber: { token: await auth.issueToken(member), conversationId: conversation.globalId, after: conversation.cursor }, conversation });
    }
  }
  const processes: ClientProcess[] = [];
  const owners: Conversation[][] = [];
  const opening: Promise<ClientReply>[] = [];
  for (let start = 0; start < everyone.length; start += perProcess) {
    const share = everyone.slice(start, start + perProcess);
    const clients = startClients();
    started.push(clients);
    processes.push(clients);
    owners.push(share.map((entry) => entry.conversation));
    opening.push(
      clients.ask({ type: 'open', url, fallbackUrl, query: SUBSCRIPTION, subscribers: share.map((entry) => entry.subscriber), concurrency: 25 }, 'opened'),
    );
  }
  const replies = (await Promise.all(opening)) as Extract<ClientReply, { type: 'opened' }>[];
  const failed = replies.reduce((sum, reply) => sum + reply.failed, 0);
  if (failed > 0) throw new Error(`${failed} subscribers could not subscribe: ${replies.find((reply) => reply.firstFailure)?.firstFailure}`);
  return { processes, owners };
}

async function stopSubscribers(set: SubscriberSet): Promise<void> {
  await Promise.all(
    set.processes.map(async (clients) => {
      const exit = once(clients.child, 'exit');
      clients.tell({ type: 'stop' });
      await exit;
    }),
  );
}

/** Waits until A runs `count` messageAdded subscriptions (the clients cannot see when a subscription has started). */
async function waitForSubscriptions(server: ServerProcess, count: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const running = metricSum(await scrapeMetrics(server.origin), 'realtime_subscriptions{field="messageAdded"}');
    if (running >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${running} of ${count} subscriptions started on ${server.origin}`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------- sending

interface SendOutcome {
  sent: number;
  failed: number;
  firstFailure?: string;
  /** Deliveries per second the sender kept up (below the asked rate when B or the database could not follow). */
  achievedRate: number;
  /** Milliseconds from each send's request to B's answer (after its COMMIT and its events' publishing). */
  answeredMs: number[];
}

/**
 * Sends messages through `origin` for `durationMs`, open loop: after a
 * message to a conversation of s members, the next one leaves s / rate
 * seconds later, whatever the answers do (at most 256 in flight; past that
 * the sender falls behind, which achievedRate shows).
 */
async function sendAtRate(origin: string, conversations: Conversation[], rate: number, durationMs: number, tokens: Map<number, string>): Promise<SendOutcome> {
  const http = new HttpPool(origin, { connections: 32, pipelining: 1 });
  const started = performance.now();
  let due = started;
  let turn = 0;
  let inFlight = 0;
  let deliveries = 0;
  const outcome: SendOutcome = { sent: 0, failed: 0, achievedRate: 0, answeredMs: [] };
  const pending = new Set<Promise<void>>();
  while (performance.now() - started < durationMs) {
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    if (inFlight >= 256) {
      await Promise.race(pending);
      continue;
    }
    const conversation = conversations[turn++ % conversations.length]!;
    const author = conversation.members[turn % conversation.members.length]!;
    inFlight += 1;
    const requested = performance.now();
    const request = http
      .request({
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(author)}` },
        body: JSON.stringify({ query: SEND, variables: { id: conversation.globalId, body: `bench message ${turn}` } }),
      })
      .then(async ({ statusCode, body }) => {
        const answer = (await body.json()) as { errors?: { message: string }[] };
        if (statusCode !== 200 || answer.errors) {
          outcome.failed += 1;
          outcome.firstFailure ??= `${statusCode} ${JSON.stringify(answer.errors)}`;
        } else {
          outcome.sent += 1;
          outcome.answeredMs.push(Math.round(performance.now() - requested));
          deliveries += conversation.members.length;
        }
      })
      .catch((error: Error) => {
        outcome.failed += 1;
        outcome.firstFailure ??= error.message;
      })
      .finally(() => {
        inFlight -= 1;
        pending.delete(request);
      });
    pending.add(request);
    due += (conversation.members.length / rate) * 1000;
  }
  await Promise.all(pending);
  outcome.achievedRate = deliveries / ((performance.now() - started) / 1000);
  await http.close();
  return outcome;
}

// ---------------------------------------------------------------- checking

interface Delivery {
  expected: number;
  delivered: number;
  missing: number;
  duplicated: number;
  outOfOrder: number;
}

/** What each subscriber should have received since `afterId`, from the database: its conversation's messages in commit order. */
async function due(pool: pg.Pool, conversations: Conversation[], afterId: string): Promise<Map<number, string[]>> {
  const { rows } = await pool.query<{ conversationId: number; ids: string[] }>(
    `SELECT conversation_id AS "conversationId", array_agg(id::text ORDER BY created_at, id) AS ids
     FROM messages WHERE conversation_id = ANY($1::int[]) AND id > $2 GROUP BY conversation_id`,
    [conversations.map((conversation) => conversation.id), afterId],
  );
  return new Map(rows.map((row) => [row.conversationId, row.ids]));
}

async function collectAll(set: SubscriberSet): Promise<Collected[]> {
  return (await Promise.all(set.processes.map((clients) => clients.ask({ type: 'collect' }, 'collected')))) as Collected[];
}

function compare(set: SubscriberSet, collected: Collected[], expected: Map<number, string[]>, afterId: bigint): Delivery {
  const result: Delivery = { expected: 0, delivered: 0, missing: 0, duplicated: 0, outOfOrder: 0 };
  collected.forEach((reply, processIndex) => {
    reply.received.forEach((ids, index) => {
      const wanted = expected.get(set.owners[processIndex]![index]!.id) ?? [];
      const got = ids.filter((id) => BigInt(id) > afterId);
      result.expected += wanted.length;
      const seen = new Set<string>();
      for (const id of got) {
        if (seen.has(id)) result.duplicated += 1;
        seen.add(id);
      }
      const wantedSet = new Set(wanted);
      result.delivered += [...seen].filter((id) => wantedSet.has(id)).length;
      result.missing += wanted.filter((id) => !seen.has(id)).length;
      // In order: the received ids, first arrivals only, are the wanted ones in the same order.
      const firsts = got.filter((id, position) => got.indexOf(id) === position && wantedSet.has(id));
      if (firsts.some((id, position) => position > 0 && wanted.indexOf(id) < wanted.indexOf(firsts[position - 1]!))) result.outOfOrder += 1;
    });
  });
  return result;
}

/** Collects until every due message arrived or `timeoutMs` passed; returns the last collection. */
async function drain(set: SubscriberSet, pool: pg.Pool, conversations: Conversation[], afterId: string, timeoutMs: number) {
  const expected = await due(pool, conversations, afterId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const collected = await collectAll(set);
    const delivery = compare(set, collected, expected, BigInt(afterId));
    if (delivery.delivered >= delivery.expected || Date.now() > deadline) return { collected, delivery };
    await sleep(250);
  }
}

const maxMessageId = async (pool: pg.Pool) => (await pool.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM messages')).rows[0]!.id;

const merged = (collected: Collected[], pick: (reply: Collected) => Record<string, number>) => {
  const into: Record<string, number> = {};
  for (const reply of collected) for (const [key, count] of Object.entries(pick(reply))) into[key] = (into[key] ?? 0) + count;
  return into;
};

// ---------------------------------------------------------------- the runs

interface RateRow {
  subscribers: number;
  conversations: number;
  askedRate: number;
  achievedRate: number;
  messagesSent: number;
  sendFailures: number;
  delivery: Delivery;
  latency: LatencySummary;
  /** A's CPU milliseconds per delivered event, over the window and its drain. */
  cpuMsPerDelivery: number | null;
  /** B's CPU milliseconds per message sent. */
  senderCpuMsPerMessage: number | null;
  /** How busy the whole machine was (every process, PostgreSQL's and the clients' too), in percent of all its cores. */
  machineBusyPercent: number | null;
  /** The slowest moments of the window: latency by when the message was written, in 100 ms slices, worst first. */
  stalls: Stall[];
  /** CPU of each part during the window (not its drain), in percent of one core: A, B, the clients, PostgreSQL, Redis, the machine (of 200 on two cores). */
  cpu: Record<CpuPart, number | null>;
  /** B's answers to the sends (sendMessage over HTTP, from the benchmark's sender): the write, its COMMIT and its after-commit steps. */
  sendAnswered: LatencySummary;
  /** Share of deliveries over 50 ms from their commit: when A sent them, and when the clients received them. */
  overBudget: { budgetMs: number; sentOverPercent: number | null; receivedOverPercent: number | null };
  closes: Record<string, number>;
  errors: Record<string, number>;
}

interface Stall {
  /** Seconds into the window at which the slice's messages were written. */
  atSeconds: number;
  /** The slice's start, epoch milliseconds. */
  atEpochMs: number;
  maxMs: number;
  medianMs: number;
  deliveries: number;
}

/**
 * The three 100 ms slices of writing time whose deliveries arrived latest. A
 * pause of one process (a collection, a blocked loop) shows as one slice
 * where every delivery is late; a slow client or connection, as a slice
 * where one is.
 */
function worstMoments(collected: Collected[]): Stall[] {
  const slices = new Map<number, number[]>();
  let origin = Infinity;
  for (const reply of collected)
    reply.writtenAt.forEach((at, index) => {
      origin = Math.min(origin, at);
      const slice = Math.floor(at / 100);
      const list = slices.get(slice) ?? [];
      list.push(reply.latencies[index]!);
      slices.set(slice, list);
    });
  return [...slices.entries()]
    .map(([slice, list]) => {
      list.sort((a, b) => a - b);
      return {
        atSeconds: (slice - Math.floor(origin / 100)) / 10,
        atEpochMs: slice * 100,
        maxMs: list[list.length - 1]!,
        medianMs: list[Math.floor(list.length / 2)]!,
        deliveries: list.length,
      };
    })
    .sort((a, b) => b.maxMs - a.maxMs)
    .slice(0, 3);
}

interface MemoryRow {
  subscribers: number;
  rssBytesPerSubscription: number;
  heapBytesPerSubscription: number;
  openSeconds: number;
}

interface KillRun {
  subscribers: number;
  rate: number;
  messagesSent: number;
  delivery: Delivery;
  reconnects: number;
  closes: Record<string, number>;
  errors: Record<string, number>;
}

async function main(): Promise<void> {
  if (!values['no-build']) {
    log('building (tsc)…');
    await buildCheckout(root);
  }
  const databaseUrl = benchDatabaseUrl('parley_bench_realtime');
  await createDatabaseIfMissing(databaseUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  await migrate(pool, { log: () => {} });
  const users = Math.max(...subscriberCounts, killSubscribers);
  log(`writing ${users} users in conversations of ${SMALLEST} to ${LARGEST}…`);
  const conversations = await prepareData(pool, users);
  const tokens = new Map<number, string>();
  for (const conversation of conversations) for (const member of conversation.members) tokens.set(member, await auth.issueToken(member));

  // A Redis of the benchmark's own (test/support's, as bench:cache uses), so no other client's channels share its pub/sub.
  const ownRedis = process.env.BENCH_REDIS_URL ? undefined : await startOwnRedis();
  const redis = { url: process.env.BENCH_REDIS_URL ?? ownRedis!.url };
  const logDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-realtime-'));
  const profileDir = (name: string) => (values['cpu-prof'] ? path.join(logDir, `profile-${name}`) : undefined);
  const serverEnv = { REDIS_URL: redis.url, RESPONSE_CACHE: 'on', LOG_LEVEL: 'warn' };
  const start = (name: string, options: { cpuProfileDir?: string; inspectorPort?: number } = {}) =>
    startServer({
      root,
      databaseUrl,
      jwtSecret: JWT_SECRET,
      env: serverEnv,
      logFile: path.join(logDir, `${name}.log`),
      cpuProfileDir: options.cpuProfileDir,
      nodeFlags: [...(options.inspectorPort ? [`--inspect=127.0.0.1:${options.inspectorPort}`] : []), ...values['node-flags'].split(' ').filter(Boolean)],
    });
  // The subscribers' instance has an inspector, through which its memory is read after a full collection.
  const inspectorPort = await freePort();
  const spawnedAt = Date.now();
  let subscribers = await start('subscribers', { cpuProfileDir: profileDir('subscribers'), inspectorPort });
  if (values['node-flags']) log(`subscribers' instance started at ${spawnedAt} (epoch ms)`);
  let writer = await start('writer', { cpuProfileDir: profileDir('writer') });
  log(`servers: subscribers ${subscribers.origin} (pid ${subscribers.pid}), writer ${writer.origin}; logs in ${logDir}`);

  const rows: RateRow[] = [];
  const memory: MemoryRow[] = [];
  let kill: KillRun | undefined;
  const profiles: { subscribers?: ProfileSummary; writer?: ProfileSummary } = {};
  const wsUrl = (server: ServerProcess) => `${server.origin.replace(/^http/, 'ws')}/graphql`;
  let profiledFrom = 0;
  let profiledTo = 0;
  try {
    for (const count of subscriberCounts) {
      const chosen = conversationsFor(conversations, count);
      const total = chosen.reduce((sum, conversation) => sum + conversation.members.length, 0);
      // Settle what earlier runs left (closed sockets, garbage) before the baseline.
      await sleep(2_000);
      const before = await memoryOf(inspectorPort);
      const openStarted = performance.now();
      log(`${total} subscribers in ${chosen.length} conversations: opening…`);
      const set = await openSubscribers(chosen, wsUrl(subscribers));
      await waitForSubscriptions(subscribers, total);
      const openSeconds = (performance.now() - openStarted) / 1000;
      await sleep(3_000);
      const snapshotFile = values['heap-snapshot'] ? path.join(logDir, `subscribers-${total}.heapsnapshot`) : undefined;
      const after = await memoryOf(inspectorPort, snapshotFile);
      if (snapshotFile) log(`A's heap with ${total} idle subscribers: ${snapshotFile}`);
      memory.push({
        subscribers: total,
        rssBytesPerSubscription: (after.rssBytes - before.rssBytes) / total,
        heapBytesPerSubscription: (after.heapBytes - before.heapBytes) / total,
        openSeconds,
      });
      log(
        `opened in ${openSeconds.toFixed(1)} s; per idle subscription: RSS ${((after.rssBytes - before.rssBytes) / total / 1024).toFixed(1)} KB, heap ${((after.heapBytes - before.heapBytes) / total / 1024).toFixed(1)} KB`,
      );
      // The full collections behind that reading (about 100 ms each, the heap shrunk after them) are not the first window's.
      await sleep(5_000);
      for (const rate of rates) {
        const afterId = await maxMessageId(pool);
        for (const clients of set.processes) clients.tell({ type: 'reset' });
        profiledFrom ||= Date.now();
        const sentBefore = sentWithin(await scrapeMetrics(subscribers.origin), 0.05);
        const cpuBefore = readCpu(subscribers.pid, writer.pid, set.processes);
        const windowFrom = Date.now();
        const outcome = await sendAtRate(writer.origin, chosen, rate, windowMs, tokens);
        const cpuAfter = readCpu(subscribers.pid, writer.pid, set.processes);
        const cpu = cpuShares(cpuBefore, cpuAfter, Date.now() - windowFrom);
        const { collected, delivery } = await drain(set, pool, chosen, afterId, 20_000);
        // A's CPU counts its drain too: the deliveries still on their way when the sends stopped.
        const subscribersCpu = grew(cpuBefore.subscribers, readProcessCpuMs(subscribers.pid));
        const senderCpu = grew(cpuBefore.writer, cpuAfter.writer);
        const machineBusy = grew(cpuBefore.machine, cpuAfter.machine);
        const machineTime = grew(cpuBefore.machineTotal, cpuAfter.machineTotal);
        profiledTo = Date.now();
        const row: RateRow = {
          subscribers: total,
          conversations: chosen.length,
          askedRate: rate,
          achievedRate: outcome.achievedRate,
          messagesSent: outcome.sent,
          sendFailures: outcome.failed,
          delivery,
          latency: summarizeLatencies(collected.flatMap((reply) => reply.latencies)),
          stalls: worstMoments(collected),
          cpu,
          sendAnswered: summarizeLatencies(outcome.answeredMs),
          overBudget: overBudget(collected, sentBefore, sentWithin(await scrapeMetrics(subscribers.origin), 0.05), 50),
          cpuMsPerDelivery: subscribersCpu !== null && delivery.delivered > 0 ? subscribersCpu / delivery.delivered : null,
          senderCpuMsPerMessage: senderCpu !== null && outcome.sent > 0 ? senderCpu / outcome.sent : null,
          machineBusyPercent: machineBusy !== null && machineTime ? (100 * machineBusy) / machineTime : null,
          closes: merged(collected, (reply) => reply.closes),
          errors: merged(collected, (reply) => reply.errors),
        };
        rows.push(row);
        log(
          `${total} subscribers, ${rate}/s asked, ${row.achievedRate.toFixed(0)}/s sent: delivered ${delivery.delivered}/${delivery.expected}` +
            ` (missing ${delivery.missing}, duplicated ${delivery.duplicated}, out of order ${delivery.outOfOrder}),` +
            ` p50 ${row.latency.p50} ms, p95 ${row.latency.p95} ms, p99 ${row.latency.p99} ms, CPU ${row.cpuMsPerDelivery?.toFixed(3)} ms/delivery,` +
            ` machine ${row.machineBusyPercent?.toFixed(0)}% busy; CPU % of a core: A ${row.cpu.subscribers}, B ${row.cpu.writer}, clients ${row.cpu.clients}, PostgreSQL ${row.cpu.postgres}, Redis ${row.cpu.redis}, this process ${row.cpu.bench}, machine ${row.cpu.machine}; sends answered p50 ${row.sendAnswered.p50} ms p99 ${row.sendAnswered.p99} ms; over 50 ms: ${row.overBudget.sentOverPercent?.toFixed(2)}% when sent, ${row.overBudget.receivedOverPercent?.toFixed(2)}% when received; slowest moments ${row.stalls.map((stall) => `+${stall.atSeconds}s max ${stall.maxMs} ms median ${stall.medianMs} ms of ${stall.deliveries}`).join(', ')}` +
            (outcome.failed > 0 ? `; ${outcome.failed} sends failed: ${outcome.firstFailure}` : ''),
        );
      }
      await stopSubscribers(set);
    }

    if (values['cpu-prof']) {
      // A profile is written when its process exits: both stop, and the kill run gets fresh ones.
      await Promise.all([subscribers.stop(), writer.stop()]);
      const stoppedAt = Date.now();
      const window = { fromMsBeforeEnd: stoppedAt - profiledFrom, toMsBeforeEnd: stoppedAt - profiledTo };
      profiles.subscribers = await summarizeProfile(await newestProfile(profileDir('subscribers')!), window);
      profiles.writer = await summarizeProfile(await newestProfile(profileDir('writer')!), window);
      [subscribers, writer] = await Promise.all([start('subscribers-2', { inspectorPort }), start('writer-2')]);
    }

    if (killSubscribers > 0) {
      const chosen = conversationsFor(conversations, killSubscribers);
      const total = chosen.reduce((sum, conversation) => sum + conversation.members.length, 0);
      log(`kill run: ${total} subscribers on pid ${subscribers.pid}, falling back to the writer's instance…`);
      const set = await openSubscribers(chosen, wsUrl(subscribers), wsUrl(writer));
      await waitForSubscriptions(subscribers, total);
      const afterId = await maxMessageId(pool);
      for (const clients of set.processes) clients.tell({ type: 'reset' });
      const victim = subscribers;
      const killer = sleep(windowMs / 2).then(() => process.kill(victim.pid, 'SIGKILL'));
      const outcome = await sendAtRate(writer.origin, chosen, killRate, windowMs, tokens);
      await killer;
      const { collected, delivery } = await drain(set, pool, chosen, afterId, 30_000);
      kill = {
        subscribers: total,
        rate: killRate,
        messagesSent: outcome.sent,
        delivery,
        reconnects: collected.reduce((sum, reply) => sum + reply.reconnects, 0),
        closes: merged(collected, (reply) => reply.closes),
        errors: merged(collected, (reply) => reply.errors),
      };
      log(
        `kill run: ${kill.reconnects} reconnects, delivered ${delivery.delivered}/${delivery.expected} (missing ${delivery.missing}, duplicated ${delivery.duplicated}, out of order ${delivery.outOfOrder})`,
      );
      await stopSubscribers(set);
      await victim.stop();
    }
  } finally {
    for (const clients of started) clients.child.kill('SIGKILL');
    await subscribers.stop().catch(() => {});
    await writer.stop();
    await ownRedis?.close();
    await pool.end();
  }

  const results = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    windowSeconds: windowMs / 1000,
    rows,
    memory,
    kill,
    profiles,
  };
  const markdown = renderMarkdown(results);
  await writeResults({ benchmark: 'realtime', label: values.label }, results, markdown);
  console.log(`\n${markdown}`);
  const lost = [...rows.map((row) => row.delivery), ...(kill ? [kill.delivery] : [])].some(
    (delivery) => delivery.missing > 0 || delivery.duplicated > 0 || delivery.outOfOrder > 0,
  );
  if (lost) {
    console.error('Some deliveries were missing, duplicated or out of order: see the table.');
    process.exitCode = 1;
  }
}

function renderMarkdown(results: {
  date: string;
  machine: string;
  windowSeconds: number;
  rows: RateRow[];
  memory: MemoryRow[];
  kill?: KillRun;
  profiles: { subscribers?: ProfileSummary; writer?: ProfileSummary };
}): string {
  const lines = [
    `# bench:realtime, ${results.date}`,
    '',
    `${results.machine}; one subscribers' instance (A) and one writers' instance (B), production builds, one Redis; ${results.windowSeconds} s per rate.`,
    '',
    '| subscribers | conversations | asked/s | sent/s | delivered / due | missing | dup | out of order | p50 ms | p95 ms | p99 ms | A CPU ms/delivery | B CPU ms/send | machine busy |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.rows.map(
      (row) =>
        `| ${row.subscribers} | ${row.conversations} | ${row.askedRate} | ${row.achievedRate.toFixed(0)} | ${row.delivery.delivered} / ${row.delivery.expected} | ${row.delivery.missing} | ${row.delivery.duplicated} | ${row.delivery.outOfOrder} | ${row.latency.p50} | ${row.latency.p95} | ${row.latency.p99} | ${row.cpuMsPerDelivery?.toFixed(3) ?? 'n/a'} | ${row.senderCpuMsPerMessage?.toFixed(2) ?? 'n/a'} | ${row.machineBusyPercent === null ? 'n/a' : `${row.machineBusyPercent.toFixed(0)}%`} |`,
    ),
    '',
    'Where the time went in each window: CPU of each process in percent of one core (the machine has two: 200), and the share of deliveries later than 50 ms when A sent them (commit to send, its histogram) and when the clients received them (insert to arrival). The slowest moment is the 100 ms of writing whose deliveries arrived latest: its median and its worst.',
    '',
    '| subscribers | asked/s | A | B | clients | PostgreSQL | Redis | sender (this process) | anything else | machine | sends answered p50 / p99 ms | over 50 ms at send | over 50 ms at arrival | slowest moment |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...results.rows.map((row) => {
      const percent = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)}%`);
      const worst = row.stalls[0];
      return `| ${row.subscribers} | ${row.askedRate} | ${row.cpu.subscribers ?? 'n/a'} | ${row.cpu.writer ?? 'n/a'} | ${row.cpu.clients ?? 'n/a'} | ${row.cpu.postgres ?? 'n/a'} | ${row.cpu.redis ?? 'n/a'} | ${row.cpu.bench ?? 'n/a'} | ${elsewhere(row.cpu)} | ${row.cpu.machine ?? 'n/a'} | ${row.sendAnswered.p50} / ${row.sendAnswered.p99} | ${percent(row.overBudget.sentOverPercent)} | ${percent(row.overBudget.receivedOverPercent)} | ${worst ? `+${worst.atSeconds} s: median ${worst.medianMs} ms, worst ${worst.maxMs} ms of ${worst.deliveries}` : 'n/a'} |`;
    }),
    '',
    '| subscribers | opened in s | RSS per idle subscription | heap per idle subscription |',
    '| ---: | ---: | ---: | ---: |',
    ...results.memory.map(
      (row) =>
        `| ${row.subscribers} | ${row.openSeconds.toFixed(1)} | ${(row.rssBytesPerSubscription / 1024).toFixed(1)} KB | ${(row.heapBytesPerSubscription / 1024).toFixed(1)} KB |`,
    ),
  ];
  const unusual = results.rows.filter((row) => Object.keys(row.closes).length > 0 || Object.keys(row.errors).length > 0 || row.sendFailures > 0);
  for (const row of unusual)
    lines.push(
      '',
      `${row.subscribers} at ${row.askedRate}/s: closes ${JSON.stringify(row.closes)}, errors ${JSON.stringify(row.errors)}, failed sends ${row.sendFailures}`,
    );
  if (results.kill) {
    const { kill } = results;
    lines.push(
      '',
      `Kill run: ${kill.subscribers} subscribers, ${kill.rate} deliveries/s, their instance killed (SIGKILL) halfway; ${kill.reconnects} reconnects to the other instance with their cursors.`,
      `Delivered ${kill.delivery.delivered} of ${kill.delivery.expected} due; missing ${kill.delivery.missing}, duplicated ${kill.delivery.duplicated}, out of order ${kill.delivery.outOfOrder}; closes ${JSON.stringify(kill.closes)}, errors ${JSON.stringify(kill.errors)}.`,
    );
  }
  for (const [name, profile] of Object.entries(results.profiles)) {
    const instance = name === 'subscribers' ? "A's (the subscribers')" : "B's (the writes')";
    lines.push('', `${instance} CPU profile over the rate windows (busy ${profile.busyMs.toFixed(0)} of ${profile.windowMs.toFixed(0)} ms):`, '');
    lines.push('| self % | function | area |', '| ---: | --- | --- |');
    for (const entry of profile.top) lines.push(`| ${entry.percent.toFixed(1)} | ${entry.function} | ${entry.area} |`);
    lines.push(
      '',
      'By area: ' +
        profile.areas
          .slice(0, 8)
          .map((area) => `${area.area} ${area.percent.toFixed(1)}%`)
          .join(', '),
    );
  }
  return `${lines.join('\n')}\n`;
}

await main();
