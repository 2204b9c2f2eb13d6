// Internal: a mixed workload over a cluster of instances
// (test/support/cluster.ts), its invariants checked as it runs and once it
// ends (the bookkeeping is test/support/cluster-ledger.ts):
//
//   clients      one per user, each a closed loop sending its next request
//                to a random instance once the last one answered: a message
//                to one of its conversations, a new display name, or a read
//                (a conversation, a profile, the leaderboard). After each
//                write it reads what it wrote back at once, on a random
//                instance. Half the clients send the x-parley-lsn of their
//                last write back with every read, as the web client does;
//                the other half send nothing, so their own writes reach
//                them through the per-user positions in Redis. Some reads
//                declare the position of the latest write of anyone;
//   subscribers  `messageAdded(after:)` on a random instance, over graphql-ws
//                or multipart HTTP, each session ended after a few seconds
//                and resumed on another instance from the last cursor received;
//   lag          the standby's replay paused for a moment now and then, below
//                the lag bound, so reads keep going to a replica that is
//                behind: the moments read-your-writes and the cache guard exist for;
//   refreshes    the refresh log read as it grows: a refresh counts as
//                acknowledged a moment after it is committed (its
//                invalidation runs right after its commit).
//
// When the time is up: every acknowledged write is in the database (and no
// write that was never sent is), the standby holds what the primary holds,
// each subscriber received each message of its conversation exactly once,
// in order, and the refresh log shows one refresh per interval.
import { createClient, type Client } from 'graphql-ws';
import type pg from 'pg';
import { Agent, fetch } from 'undici';
import WebSocket from 'ws';
import { summarizeLatencies, type LatencySummary } from '../../bench/stats.js';
import { formatLsn, laterLsn, parseLsn, type Lsn } from '../../src/db/lsn.js';
import { createAuth } from '../../src/graphql/auth.js';
import { encodeCursor } from '../../src/graphql/relay/cursor.js';
import { fromGlobalId, toGlobalId } from '../../src/graphql/relay/global-id.js';
import { checkDeliveries, checkRefreshes, ClusterLedger, type AnswerSource, type RefreshFigures, type Violation } from './cluster-ledger.js';
import type { Cluster, ClusterInstance } from './cluster.js';
import { insertConversation, insertMessages, insertUser } from './fixtures.js';

// ------------------------------------------------------------------ the data

export interface ClusterUser {
  id: number;
  globalId: string;
}

export interface ClusterConversation {
  id: number;
  globalId: string;
  participants: number[];
  /** Its one message before the run: subscribers start after it. */
  startMessageId: number;
  startCursor: string;
}

export interface ClusterWorld {
  users: ClusterUser[];
  conversations: ClusterConversation[];
  /** Messages above this id were sent during the run. */
  lastFixtureMessageId: number;
}

/** A display name with its version: only its owner renames a user, each time one version up. */
const displayName = (userId: number, version: number) => `U${userId}#${version}`;
const nameVersion = (name: string) => Number(/#(\d+)$/.exec(name)?.[1] ?? Number.NaN);

/**
 * `users` users and `conversations` group conversations of `participants`
 * each (consecutive users, wrapping around, so each user is in about
 * conversations × participants / users of them), each with one message.
 */
export async function insertClusterWorld(pool: pg.Pool, sizes: { users: number; conversations: number; participants: number }): Promise<ClusterWorld> {
  const users: ClusterUser[] = [];
  for (let index = 0; index < sizes.users; index += 1) {
    const { id } = await insertUser(pool, 'Cluster');
    await pool.query('UPDATE users SET display_name = $2 WHERE id = $1', [id, displayName(id, 0)]);
    users.push({ id, globalId: toGlobalId('User', id) });
  }
  const conversations: ClusterConversation[] = [];
  const startedAt = new Date(Date.now() - 60_000);
  for (let index = 0; index < sizes.conversations; index += 1) {
    const participants = Array.from({ length: sizes.participants }, (_unused, offset) => users[(index * sizes.participants + offset) % users.length]!.id);
    const id = await insertConversation(pool, { participants: [...new Set(participants)], title: `Cluster ${index + 1}`, createdAt: startedAt });
    const [messageId] = await insertMessages(pool, id, [{ authorId: participants[0]!, body: 'before the run', at: startedAt }]);
    conversations.push({
      id,
      globalId: toGlobalId('Conversation', id),
      participants: [...new Set(participants)],
      startMessageId: Number(messageId),
      startCursor: encodeCursor({ at: startedAt, id: messageId! }),
    });
  }
  return { users, conversations, lastFixtureMessageId: Math.max(...conversations.map((conversation) => conversation.startMessageId)) };
}

// ------------------------------------------------------------- the workload

export interface WorkloadOptions {
  /** How long the clients send requests. */
  durationMs: number;
  /** Client loops, one user each (at most the world's users). */
  clients: number;
  /** Subscribers, spread over the conversations. */
  subscribers: number;
  /** Of a client's turns: a message, a new display name; the rest are reads. Default 0.2 and 0.05. */
  writeShares?: { send: number; rename: number };
  /** Of the reads that follow no write, those declaring the latest write of anyone (x-parley-lsn). Default 0.2. */
  declaredShare?: number;
  /** The standby's replay paused for `pauseMs` every `everyMs`; undefined: never. */
  lag?: { everyMs: number; pauseMs: number };
  /** A subscriber's session lasts from `min` to `max` ms before it resumes elsewhere. Default 2,000 to 5,000. */
  sessionMs?: { min: number; max: number };
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

export type RequestKind = 'send' | 'rename' | 'own read' | 'conversation' | 'profile' | 'leaderboard';
const KINDS: readonly RequestKind[] = ['send', 'rename', 'own read', 'conversation', 'profile', 'leaderboard'];

export interface KindFigures {
  requests: number;
  perSecond: number;
  errors: number;
  latencyMs: LatencySummary;
}

export interface ClusterReport {
  durationMs: number;
  instances: number;
  pooled: boolean;
  refreshIntervalSeconds: number;
  clients: number;
  kinds: Record<RequestKind, KindFigures>;
  /** Requests per instance (every kind): the spread. */
  perInstance: number[];
  reads: {
    /** Answers by where they came from. */
    fromCache: number;
    /** Answered without a statement: every row from the loader cache. */
    fromLoaderCache: number;
    fromReplica: number;
    /** By the reason x-parley-read-from gives (`write` is a mutation's own). */
    fromPrimary: Record<string, number>;
    /** Reads whose source the answer did not say (checked as strictly as the primary's; none expected). */
    unknownSource: number;
    /** Answers read on a replica behind the latest write, served and not stored (the instances' db_replica_answers_not_stored_total). */
    notStored: number;
  };
  checks: {
    /** Reads by a writer of what it had written, with x-parley-lsn / without (the positions in Redis). */
    ownWithHeader: number;
    ownWithoutHeader: number;
    /** Reads declaring a position past another writer's write. */
    declared: number;
    /** Cache hits and primary reads held to the latest write of anyone. */
    servedLatest: number;
    /** Older answers allowed: read on a lagging replica by a reader who neither wrote nor declared the write. */
    olderFromReplica: number;
    acknowledgedWrites: number;
    /** Writes whose request failed: committed or not, neither is a violation. */
    inDoubtWrites: number;
  };
  subscriptions: {
    subscribers: number;
    sessions: { ws: number; multipart: number };
    deliveries: number;
    /** Sessions ended by an error rather than by the subscriber. */
    errors: number;
    /** Commit to arrival, for messages committed while their session was open. */
    latencyMs: LatencySummary;
  };
  refreshes: RefreshFigures;
  lagEpisodes: number;
  violations: number;
  violationsByKind: Record<string, number>;
  /** The first violations, described. */
  violationSamples: Violation[];
  /** The first errors, described. */
  errorSamples: string[];
}

// A refresh is taken as acknowledged this long after the log shows it committed: its invalidation runs right after its commit.
const REFRESH_GRACE_MS = 1_000;
/** The refresher's slack (src/jobs/stats-refresher.ts DUE_SLACK_MS): a tick is due that much early. */
const REFRESH_SLACK_MS = 1_000;

const CONVERSATION = `query ClusterConversation($id: ID!) { conversation(id: $id) { id lastMessage { id } messages(first: 5) { edges { node { id } } } } }`;
const PROFILE = `query ClusterProfile($id: ID!) { user(id: $id) { id displayName } }`;
const LEADERBOARD = `query ClusterLeaderboard { leaderboard(metric: MESSAGES, first: 5) { refreshedAt edges { node { value user { id } } } } }`;
const SEND = `mutation ClusterSend($id: ID!, $body: String!) { sendMessage(input: { conversationId: $id, body: $body }) { message { id cursor } } }`;
const RENAME = `mutation ClusterRename($name: String!) { updateProfile(input: { displayName: $name }) { user { id displayName } } }`;
const ADDED = `subscription ClusterAdded($id: ID!, $after: String) { messageAdded(conversationId: $id, after: $after) { id cursor createdAt } }`;
const MULTIPART_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json';

interface Answer<Data> {
  status: number;
  data?: Data | null;
  errors?: { message: string; extensions?: { code?: string } }[];
  headers: Headers;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const between = (min: number, max: number) => min + Math.random() * (max - min);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const messageId = (globalId: string) => Number(fromGlobalId(globalId, 'id').id);

function sourceOf(headers: Headers): { source: AnswerSource | 'unknown'; reason?: string } {
  if (headers.get('x-cache') === 'HIT') return { source: 'cache' };
  const from = headers.get('x-parley-read-from') ?? '';
  if (from.startsWith('replica')) return { source: 'replica' };
  const primary = /^primary \(([^)]+)\)/.exec(from);
  if (primary) return { source: 'primary', reason: primary[1] };
  // Nothing read from the database (x-parley-read-from is set at the first statement).
  if (headers.get('x-sql-statements') === '0') return { source: 'loader cache' };
  return { source: 'unknown' };
}

interface Tally {
  requests: number;
  errors: number;
  latencies: number[];
}

interface ClientState {
  user: ClusterUser;
  token: string;
  /** Sends the x-parley-lsn of its last write back with every read. */
  echo: boolean;
  lastLsn: Lsn | undefined;
  conversations: ClusterConversation[];
  nameVersion: number;
  sent: number;
}

interface SubscriberState {
  name: string;
  token: string;
  conversation: ClusterConversation;
  lastCursor: string;
  received: number[];
  /** Each session: where, how, from which message, when, and what it delivered (for the report of a missed message). */
  sessions: { instance: number; transport: 'ws' | 'multipart'; afterId: number; openedAt: number; closedAt?: number; delivered: number[]; ended?: string }[];
}

/** Runs the workload on `cluster` over `world` and checks its invariants; resolves with the figures (violations: 0 when they held). */
export async function runClusterWorkload(cluster: Cluster, world: ClusterWorld, options: WorkloadOptions): Promise<ClusterReport> {
  const log = options.log ?? (() => {});
  const shares = options.writeShares ?? { send: 0.2, rename: 0.05 };
  const declaredShare = options.declaredShare ?? 0.2;
  const sessionMs = options.sessionMs ?? { min: 2_000, max: 5_000 };
  const pool = cluster.replica.database.pool;
  const auth = createAuth({ secret: cluster.jwtSecret, ttlSeconds: 6 * 3600 });
  const ledger = new ClusterLedger();
  const tallies = Object.fromEntries(KINDS.map((kind): [RequestKind, Tally] => [kind, { requests: 0, errors: 0, latencies: [] }])) as Record<
    RequestKind,
    Tally
  >;
  const perInstance = cluster.instances.map(() => 0);
  const reads = { fromCache: 0, fromLoaderCache: 0, fromReplica: 0, fromPrimary: {} as Record<string, number>, unknownSource: 0, notStored: 0 };
  const checks = { ownWithHeader: 0, ownWithoutHeader: 0, declared: 0, servedLatest: 0, olderFromReplica: 0, acknowledgedWrites: 0, inDoubtWrites: 0 };
  // The workload's own connections, closed when it ends, as a client fleet's are: an
  // instance stopped next does not wait for keep-alive connections it served
  // multipart subscriptions on (about 10 s each, the drain's bound, when left open).
  const connections = new Agent({ keepAliveTimeout: 10_000 });
  const errorSamples: string[] = [];
  const noteError = (text: string) => {
    if (errorSamples.length < 20) errorSamples.push(text);
  };
  // Writes: the acknowledged ones, and the bodies and names of those whose request failed.
  const acknowledgedMessages = new Map<number, { conversationId: number; authorId: number; body: string }>();
  const inDoubtBodies = new Set<string>();
  const acknowledgedNames = new Map<number, number>();
  let acknowledgedRenames = 0;
  const inDoubtNames = new Map<number, Set<number>>();

  // The last requests on each entity, for the context of a violation.
  const traces = new Map<string, string[]>();
  const trace = (entity: string, line: string) => {
    const lines = traces.get(entity) ?? [];
    lines.push(line);
    if (lines.length > 30) lines.shift();
    traces.set(entity, lines);
  };
  const runOrigin = performance.now();
  const clock = () => Math.round(performance.now() - runOrigin);

  /** One request, timed and counted under `kind`. */
  const post = async <Data>(
    kind: RequestKind,
    instance: ClusterInstance,
    query: string,
    variables: Record<string, unknown>,
    headers: { token?: string; lsn?: Lsn },
  ): Promise<Answer<Data> | undefined> => {
    const tally = tallies[kind];
    tally.requests += 1;
    perInstance[instance.index]! += 1;
    const started = performance.now();
    try {
      const response = await fetch(`${instance.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(headers.token ? { authorization: `Bearer ${headers.token}` } : {}),
          ...(headers.lsn !== undefined ? { 'x-parley-lsn': formatLsn(headers.lsn) } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(60_000),
        dispatcher: connections,
      });
      const body = (await response.json()) as Pick<Answer<Data>, 'data' | 'errors'>;
      tally.latencies.push(performance.now() - started);
      const answer = { status: response.status, ...body, headers: response.headers };
      if (response.status !== 200 || body.errors?.length) {
        tally.errors += 1;
        noteError(`${kind} on instance ${instance.index}: ${response.status} ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
        return undefined;
      }
      return answer;
    } catch (error) {
      tally.errors += 1;
      noteError(`${kind} on instance ${instance.index}: ${(error as Error).message}`);
      return undefined;
    }
  };

  /** A read of `entity` showing `versionOf(data)`, checked against what it had to show when it was sent. */
  const read = async <Data>(
    kind: RequestKind,
    entity: string,
    reader: ClientState | undefined,
    declared: Lsn | undefined,
    query: string,
    variables: Record<string, unknown>,
    versionOf: (data: Data) => number,
  ) => {
    const instance = pick(cluster.instances);
    const expected = ledger.expect(entity, reader?.user.id, declared);
    const sentAt = clock();
    const answer = await post<Data>(kind, instance, query, variables, { token: reader?.token, lsn: declared });
    if (!answer?.data) return;
    const { source, reason } = sourceOf(answer.headers);
    if (source === 'cache') reads.fromCache += 1;
    else if (source === 'loader cache') reads.fromLoaderCache += 1;
    else if (source === 'replica') reads.fromReplica += 1;
    else if (source === 'primary') reads.fromPrimary[reason!] = (reads.fromPrimary[reason!] ?? 0) + 1;
    else reads.unknownSource += 1;
    const version = versionOf(answer.data);
    const what = `${kind} by ${reader ? `user ${reader.user.id}` : 'a signed-out reader'} on instance ${instance.index} (${declared === undefined ? 'no x-parley-lsn' : `x-parley-lsn ${formatLsn(declared)}`}, ${answer.headers.get('x-parley-read-from') ?? answer.headers.get('x-cache')})`;
    const verdict = ledger.check(expected, version, source === 'unknown' ? 'primary' : source, what);
    const headers = ['x-cache', 'x-parley-read-from', 'age', 'cache-control'].map((name) => `${name}: ${answer.headers.get(name)}`).join(', ');
    trace(entity, `${sentAt}-${clock()} ms: ${kind} by ${reader ? `user ${reader.user.id}` : 'signed out'} on ${instance.index} saw ${version} (${headers})`);
    if (verdict.violation) verdict.violation.context = [...(traces.get(entity) ?? [])];
    if (expected.own > 0) {
      if (declared === undefined) checks.ownWithoutHeader += 1;
      else checks.ownWithHeader += 1;
    }
    if (expected.declared > expected.own) checks.declared += 1;
    if (source !== 'replica' && expected.served > 0) checks.servedLatest += 1;
    if (!verdict.violation && verdict.olderFromReplica) checks.olderFromReplica += 1;
  };

  type ConversationData = { conversation: { lastMessage: { id: string } | null; messages: { edges: { node: { id: string } }[] } } | null };
  const readConversation = (kind: RequestKind, client: ClientState, conversation: ClusterConversation, declared: Lsn | undefined) =>
    read<ConversationData>(kind, `conversation:${conversation.id}`, client, declared, CONVERSATION, { id: conversation.globalId }, (data) => {
      const found = data.conversation;
      if (!found) return 0;
      // Both must show the write: the lower of the two.
      const newestInPage = Math.max(0, ...found.messages.edges.map((edge) => messageId(edge.node.id)));
      return Math.min(found.lastMessage ? messageId(found.lastMessage.id) : 0, newestInPage);
    });
  const readProfile = (kind: RequestKind, client: ClientState | undefined, user: ClusterUser, declared: Lsn | undefined) =>
    read<{ user: { displayName: string } | null }>(kind, `user:${user.id}`, client, declared, PROFILE, { id: user.globalId }, (data) =>
      data.user ? nameVersion(data.user.displayName) : 0,
    );
  const readLeaderboard = (client: ClientState | undefined, declared: Lsn | undefined) =>
    read<{ leaderboard: { refreshedAt: string | null } }>('leaderboard', 'leaderboard', client, declared, LEADERBOARD, {}, (data) =>
      data.leaderboard.refreshedAt ? Date.parse(data.leaderboard.refreshedAt) : 0,
    );

  // -------------------------------------------------------------- clients
  const clients: ClientState[] = await Promise.all(
    world.users.slice(0, options.clients).map(async (user, index) => ({
      user,
      token: await auth.issueToken(user.id),
      echo: index % 2 === 0,
      lastLsn: undefined,
      conversations: world.conversations.filter((conversation) => conversation.participants.includes(user.id)),
      nameVersion: 0,
      sent: 0,
    })),
  );
  const ownPosition = (client: ClientState) => (client.echo ? client.lastLsn : undefined);

  const send = async (client: ClientState) => {
    const conversation = pick(client.conversations);
    client.sent += 1;
    const body = `m${client.user.id}-${client.sent}`;
    inDoubtBodies.add(body);
    const instance = pick(cluster.instances);
    const sentAt = clock();
    const answer = await post<{ sendMessage: { message: { id: string } } }>(
      'send',
      instance,
      SEND,
      { id: conversation.globalId, body },
      { token: client.token },
    );
    if (!answer?.data) return;
    const id = messageId(answer.data.sendMessage.message.id);
    const lsn = parseLsn(answer.headers.get('x-parley-lsn'));
    trace(
      `conversation:${conversation.id}`,
      `${sentAt}-${clock()} ms: message ${id} by user ${client.user.id} on ${instance.index}, at ${formatLsn(lsn ?? 0n)}`,
    );
    inDoubtBodies.delete(body);
    acknowledgedMessages.set(id, { conversationId: conversation.id, authorId: client.user.id, body });
    ledger.acknowledge({ entity: `conversation:${conversation.id}`, version: id, author: client.user.id, lsn });
    client.lastLsn = laterLsn(client.lastLsn, lsn);
    await readConversation('own read', client, conversation, ownPosition(client));
  };

  const rename = async (client: ClientState) => {
    client.nameVersion += 1;
    const version = client.nameVersion;
    const pending = inDoubtNames.get(client.user.id) ?? new Set<number>();
    inDoubtNames.set(client.user.id, pending.add(version));
    const instance = pick(cluster.instances);
    const sentAt = clock();
    const answer = await post('rename', instance, RENAME, { name: displayName(client.user.id, version) }, { token: client.token });
    if (!answer?.data) return;
    const lsn = parseLsn(answer.headers.get('x-parley-lsn'));
    trace(`user:${client.user.id}`, `${sentAt}-${clock()} ms: name ${version} on ${instance.index}, at ${formatLsn(lsn ?? 0n)}`);
    pending.delete(version);
    acknowledgedNames.set(client.user.id, version);
    acknowledgedRenames += 1;
    ledger.acknowledge({ entity: `user:${client.user.id}`, version, author: client.user.id, lsn });
    client.lastLsn = laterLsn(client.lastLsn, lsn);
    await readProfile('own read', client, client.user, ownPosition(client));
  };

  const browse = async (client: ClientState) => {
    const declared = Math.random() < declaredShare ? laterLsn(ownPosition(client), ledger.latestLsn) : ownPosition(client);
    const choice = Math.random();
    if (choice < 0.5) await readConversation('conversation', client, pick(client.conversations), declared);
    else if (choice < 0.8) {
      // A profile is a public answer, one cache entry for everyone: a third of them signed out.
      const signedOut = Math.random() < 1 / 3;
      await readProfile('profile', signedOut ? undefined : client, pick(world.users), signedOut ? undefined : declared);
    } else await readLeaderboard(Math.random() < 0.5 ? undefined : client, declared);
  };

  const startedAt = Date.now();
  const deadline = startedAt + options.durationMs;
  const runClient = async (client: ClientState) => {
    while (Date.now() < deadline) {
      const turn = Math.random();
      if (turn < shares.send) await send(client);
      else if (turn < shares.send + shares.rename) await rename(client);
      else await browse(client);
    }
  };

  // ---------------------------------------------------------- subscribers
  const subscribers: SubscriberState[] = await Promise.all(
    Array.from({ length: options.subscribers }, async (_unused, index) => {
      const conversation = world.conversations[index % world.conversations.length]!;
      const userId = conversation.participants[Math.floor(index / world.conversations.length) % conversation.participants.length]!;
      return {
        name: `subscriber ${index + 1} (user ${userId}, conversation ${conversation.id})`,
        token: await auth.issueToken(userId),
        conversation,
        lastCursor: conversation.startCursor,
        received: [],
        sessions: [],
      };
    }),
  );
  const sessions = { ws: 0, multipart: 0 };
  const subscription = { errors: 0, latencies: [] as number[] };
  // Set once the clients stopped: each conversation's newest message, which every subscriber must reach.
  let targets: Map<number, number> | undefined;
  let drainDeadline = Number.POSITIVE_INFINITY;

  const runSubscriber = async (subscriber: SubscriberState) => {
    const reached = () => {
      const target = targets?.get(subscriber.conversation.id);
      return target !== undefined && (subscriber.received.at(-1) ?? subscriber.conversation.startMessageId) >= target;
    };
    while (!reached() && Date.now() < drainDeadline) {
      const instance = pick(cluster.instances);
      const transport = Math.random() < 0.5 ? 'ws' : 'multipart';
      sessions[transport] += 1;
      const session: SubscriberState['sessions'][number] = {
        instance: instance.index,
        transport,
        afterId: subscriber.received.at(-1) ?? subscriber.conversation.startMessageId,
        openedAt: Date.now(),
        delivered: [],
      };
      subscriber.sessions.push(session);
      let open = true;
      let ended = false;
      const deliver = (event: { id: string; cursor: string; createdAt: string }) => {
        // A late event of a closed session is not taken: the next session resumes after the last one taken.
        if (!open) return;
        const id = messageId(event.id);
        subscriber.received.push(id);
        session.delivered.push(id);
        subscriber.lastCursor = event.cursor;
        const committed = Date.parse(event.createdAt);
        if (committed >= session.openedAt) subscription.latencies.push(Date.now() - committed);
      };
      const end = (reason: string | undefined) => {
        if (!open) return;
        if (reason !== undefined) {
          subscription.errors += 1;
          noteError(`${subscriber.name} on instance ${instance.index} (${transport}): ${reason}`);
        }
        session.ended = reason ?? 'completed by the server';
        ended = true;
      };
      const variables = { id: subscriber.conversation.globalId, after: subscriber.lastCursor };
      const close =
        transport === 'ws'
          ? subscribeOverWebSocket(instance.url, subscriber.token, variables, deliver, end)
          : subscribeOverMultipart(instance.url, subscriber.token, variables, deliver, end, connections);
      const until = session.openedAt + between(sessionMs.min, sessionMs.max);
      while (!ended && !reached() && Date.now() < Math.min(until, drainDeadline)) await sleep(25);
      open = false;
      session.closedAt = Date.now();
      await close();
    }
  };

  // --------------------------------------------------- lag and refreshes
  let lagEpisodes = 0;
  const runLag = async () => {
    if (!options.lag) return;
    const { everyMs, pauseMs } = options.lag;
    while (Date.now() + everyMs + pauseMs < deadline) {
      await sleep(everyMs);
      try {
        await cluster.replica.pauseReplay();
        lagEpisodes += 1;
        await sleep(pauseMs);
      } finally {
        await cluster.replica.resumeReplay();
      }
    }
  };

  const runStart = new Date(startedAt);
  let lastRefreshId = 0;
  let polling = true;
  const pollRefreshes = async () => {
    while (polling) {
      const { rows } = await pool.query<{ id: number; outcome: string; startedAt: Date }>(
        `SELECT id::integer, outcome, started_at AS "startedAt" FROM materialized_view_refreshes WHERE id > $1 ORDER BY id`,
        [lastRefreshId],
      );
      for (const row of rows) {
        lastRefreshId = row.id;
        if (row.outcome !== 'succeeded') continue;
        setTimeout(() => ledger.acknowledge({ entity: 'leaderboard', version: row.startedAt.getTime() }), REFRESH_GRACE_MS).unref();
      }
      await sleep(200);
    }
  };

  log(`${clients.length} clients and ${subscribers.length} subscribers on ${cluster.instances.length} instances for ${options.durationMs / 1000} s`);
  const polled = pollRefreshes();
  const subscribed = subscribers.map((subscriber) => runSubscriber(subscriber));
  const lagging = runLag();
  const progress = setInterval(() => {
    const requests = KINDS.reduce((sum, kind) => sum + tallies[kind].requests, 0);
    log(`${Math.round((Date.now() - startedAt) / 1000)} s: ${requests} requests, ${ledger.violations.length} violations`);
  }, 10_000);
  try {
    await Promise.all(clients.map((client) => runClient(client)));
  } finally {
    clearInterval(progress);
    await lagging;
  }
  const endedAt = Date.now();
  const durationMs = endedAt - startedAt;

  // ------------------------------------------------------------ the end
  const { rows: newest } = await pool.query<{ conversationId: number; id: string }>(
    `SELECT conversation_id AS "conversationId", max(id)::text AS id FROM messages WHERE conversation_id = ANY($1) GROUP BY 1`,
    [world.conversations.map((conversation) => conversation.id)],
  );
  targets = new Map(newest.map((row) => [row.conversationId, Number(row.id)]));
  drainDeadline = Date.now() + 20_000;
  await Promise.all(subscribed);
  polling = false;
  await polled;

  // Every acknowledged message is there as sent; every message there was sent.
  const { rows: messages } = await pool.query<{ id: string; conversationId: number; authorId: number; body: string }>(
    `SELECT id::text, conversation_id AS "conversationId", author_id AS "authorId", body FROM messages WHERE id > $1 ORDER BY id`,
    [world.lastFixtureMessageId],
  );
  const stored = new Map(messages.map((row) => [Number(row.id), row]));
  for (const [id, sent] of acknowledgedMessages) {
    const row = stored.get(id);
    if (!row || row.conversationId !== sent.conversationId || row.authorId !== sent.authorId || row.body !== sent.body) {
      ledger.record('lost-write', `message ${id} (${sent.body}) acknowledged, ${row ? `stored as ${JSON.stringify(row)}` : 'not in the database'}`);
    }
  }
  for (const [id, row] of stored) {
    if (!acknowledgedMessages.has(id) && !inDoubtBodies.has(row.body))
      ledger.record('phantom-write', `message ${id} (${row.body}) in the database, never sent`);
  }
  const { rows: names } = await pool.query<{ id: number; name: string }>('SELECT id, display_name AS name FROM users WHERE id = ANY($1) ORDER BY id', [
    world.users.map((user) => user.id),
  ]);
  for (const { id, name } of names) {
    const version = nameVersion(name);
    const acknowledged = acknowledgedNames.get(id) ?? 0;
    const inDoubt = inDoubtNames.get(id) ?? new Set<number>();
    if (version < acknowledged) ledger.record('lost-write', `user ${id} is named ${name}, after version ${acknowledged} was acknowledged`);
    else if (version > acknowledged && !inDoubt.has(version)) ledger.record('phantom-write', `user ${id} is named ${name}, never sent`);
  }

  // The standby holds what the primary holds.
  await cluster.replica.caughtUp();
  const fingerprint = `SELECT (SELECT string_agg(id::text || ':' || conversation_id || ':' || md5(body), ',' ORDER BY id) FROM messages WHERE id > $1) AS messages,
                              (SELECT string_agg(id || ':' || display_name, ',' ORDER BY id) FROM users) AS users`;
  const [onPrimary] = (await pool.query<{ messages: string | null; users: string }>(fingerprint, [world.lastFixtureMessageId])).rows;
  const [onStandby] = await cluster.replica.queryStandby<{ messages: string | null; users: string }>(fingerprint, [world.lastFixtureMessageId]);
  if (onPrimary?.messages !== onStandby?.messages) ledger.record('replica-diverged', 'the standby’s messages differ from the primary’s once caught up');
  if (onPrimary?.users !== onStandby?.users) ledger.record('replica-diverged', 'the standby’s users differ from the primary’s once caught up');

  // Each subscriber got every message of its conversation, once, in commit order.
  const order = new Map<number, number[]>();
  for (const conversation of world.conversations) {
    const { rows } = await pool.query<{ id: string }>('SELECT id::text FROM messages WHERE conversation_id = $1 AND id > $2 ORDER BY created_at, id', [
      conversation.id,
      conversation.startMessageId,
    ]);
    order.set(
      conversation.id,
      rows.map((row) => Number(row.id)),
    );
  }
  for (const subscriber of subscribers) {
    const expected = order.get(subscriber.conversation.id)!;
    const found = checkDeliveries(ledger, subscriber.name, subscriber.received, expected);
    // Where it went missing: the sessions around the first message missed, and when that message committed.
    const missed = expected.find((id) => !subscriber.received.includes(id));
    if (missed === undefined || found.length === 0) continue;
    const { rows } = await pool.query<{ at: Date }>('SELECT created_at AS at FROM messages WHERE id = $1', [missed]);
    const around = subscriber.sessions
      .filter((session) => session.afterId < missed && (session.delivered.at(-1) ?? session.afterId) >= missed - 20)
      .map(
        (session) =>
          `[instance ${session.instance} ${session.transport}, after ${session.afterId}, ${session.openedAt - startedAt}-${(session.closedAt ?? 0) - startedAt} ms, delivered ${session.delivered.join(' ')}${session.ended ? `, ended: ${session.ended}` : ''}]`,
      );
    for (const violation of found)
      violation.detail += `; message ${missed} committed at ${(rows[0]?.at.getTime() ?? 0) - startedAt} ms; sessions ${around.join(' ')}`;
  }

  // One refresh per interval, over the run.
  const { rows: refreshRows } = await pool.query<{ outcome: string; startedAt: Date; finishedAt: Date }>(
    `SELECT outcome, started_at AS "startedAt", finished_at AS "finishedAt" FROM materialized_view_refreshes
     WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at`,
    [runStart, new Date(endedAt)],
  );
  const intervalMs = cluster.refreshIntervalSeconds * 1000;
  const refreshes = checkRefreshes(
    ledger,
    refreshRows.filter((row) => row.outcome === 'succeeded').map((row) => ({ startedAt: row.startedAt.getTime(), finishedAt: row.finishedAt.getTime() })),
    {
      skipped: refreshRows.filter((row) => row.outcome === 'skipped').length,
      failed: refreshRows.filter((row) => row.outcome === 'failed').length,
    },
    // Some instance ticks at least once per interval (plus its own refresh): two intervals and a slack is late.
    { intervalMs, slackMs: REFRESH_SLACK_MS, maxGapMs: 2 * intervalMs + REFRESH_SLACK_MS, runMs: durationMs, runEndsAt: endedAt },
  );

  for (const instance of cluster.instances) reads.notStored += await notStoredAnswers(instance, connections);
  await connections.close();
  checks.acknowledgedWrites = acknowledgedMessages.size + acknowledgedRenames;
  checks.inDoubtWrites = inDoubtBodies.size + [...inDoubtNames.values()].reduce((sum, versions) => sum + versions.size, 0);

  const violationsByKind: Record<string, number> = {};
  for (const violation of ledger.violations) violationsByKind[violation.kind] = (violationsByKind[violation.kind] ?? 0) + 1;
  return {
    durationMs,
    instances: cluster.instances.length,
    pooled: cluster.pooled,
    refreshIntervalSeconds: cluster.refreshIntervalSeconds,
    clients: clients.length,
    kinds: Object.fromEntries(
      KINDS.map((kind) => {
        const tally = tallies[kind];
        return [
          kind,
          { requests: tally.requests, perSecond: tally.requests / (durationMs / 1000), errors: tally.errors, latencyMs: summarizeLatencies(tally.latencies) },
        ];
      }),
    ) as Record<RequestKind, KindFigures>,
    perInstance,
    reads,
    checks,
    subscriptions: {
      subscribers: subscribers.length,
      sessions,
      deliveries: subscribers.reduce((sum, subscriber) => sum + subscriber.received.length, 0),
      errors: subscription.errors,
      latencyMs: summarizeLatencies(subscription.latencies),
    },
    refreshes,
    lagEpisodes,
    violations: ledger.violations.length,
    violationsByKind,
    violationSamples: ledger.violations.slice(0, 20),
    errorSamples,
  };
}

/** The instance's db_replica_answers_not_stored_total (its /metrics is public outside production). */
async function notStoredAnswers(instance: ClusterInstance, dispatcher: Agent): Promise<number> {
  const text = await fetch(`${instance.url}/metrics`, { dispatcher }).then((response) => response.text());
  return Number(/^db_replica_answers_not_stored_total (\d+)/m.exec(text)?.[1] ?? 0);
}

type Deliver = (event: { id: string; cursor: string; createdAt: string }) => void;

/** A `messageAdded` subscription over graphql-ws (graphql-ws's own client); returns what closes it. */
function subscribeOverWebSocket(
  url: string,
  token: string,
  variables: Record<string, unknown>,
  deliver: Deliver,
  end: (error: string | undefined) => void,
): () => Promise<void> {
  const client: Client = createClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const unsubscribe = client.subscribe<{ messageAdded: { id: string; cursor: string; createdAt: string } }>(
    { query: ADDED, variables },
    {
      next: (result) => {
        if (result.errors?.length) end(JSON.stringify(result.errors));
        else if (result.data) deliver(result.data.messageAdded);
      },
      error: (error) => end(error instanceof Error ? error.message : JSON.stringify(error)),
      complete: () => end(undefined),
    },
  );
  return async () => {
    unsubscribe();
    await client.dispose();
  };
}

/** A `messageAdded` subscription over multipart HTTP (Apollo's protocol, as Apollo Client 4 speaks it); returns what closes it. */
function subscribeOverMultipart(
  url: string,
  token: string,
  variables: Record<string, unknown>,
  deliver: Deliver,
  end: (error: string | undefined) => void,
  dispatcher: Agent,
): () => Promise<void> {
  const abort = new AbortController();
  const reading = (async () => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: MULTIPART_ACCEPT, authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ADDED, variables }),
      signal: abort.signal,
      dispatcher,
    });
    if (!response.headers.get('content-type')?.startsWith('multipart/mixed')) {
      end(`${response.status} ${(await response.text()).slice(0, 300)}`);
      return;
    }
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      const pieces = text.split('\r\n--graphql');
      text = pieces.pop()!;
      for (const piece of pieces) {
        const start = piece.indexOf('\r\n\r\n');
        if (start < 0) continue;
        const part = JSON.parse(piece.slice(start + 4)) as {
          payload?: { data?: { messageAdded: { id: string; cursor: string; createdAt: string } } | null; errors?: unknown[] } | null;
          errors?: unknown[];
        };
        if (part.errors?.length || part.payload?.errors?.length) end(JSON.stringify(part.errors ?? part.payload?.errors));
        else if (part.payload?.data) deliver(part.payload.data.messageAdded);
      }
      if (text.startsWith('--')) break;
    }
    end(undefined);
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) end((error as Error).message);
  });
  return async () => {
    abort.abort();
    await reading;
  };
}
