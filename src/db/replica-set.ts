import type pg from 'pg';
import type { Config, ReplicaSettings } from '../config.js';
import { COMMITTED_LSN_SQL, type Lsn, parseLsn } from './lsn.js';
import { createPool, type PoolOptions } from './pool.js';
import { withinDeadline } from './redis.js';
import { describeDatabaseError } from './unavailable.js';

/**
 * The streaming replicas reads may go to, and what is known of each: its
 * health and how far it has replayed the primary's WAL. Nothing here runs
 * per request: a poller reads every replica's replay position (and the
 * primary's WAL position, for the lag) every `pollIntervalMs` on
 * connections of its own, and once more on demand when a request needs a
 * position the last reading had not reached (many such requests share one
 * reading). A request then compares positions it already holds.
 *
 * A replica's lag is the age of the oldest write it has not replayed, not
 * `now() - pg_last_xact_replay_timestamp()`: on an idle primary that grows
 * with nothing to replay. The poller keeps the primary's positions with the
 * time it read them; a replica behind the latest is lagging by the time
 * since the first reading it had not reached: a measure short of the truth
 * by at most one poll interval, so a replica is skipped at most one
 * interval late, never early.
 */

/** A replica as the composition root opened it: its pool serves requests' reads. */
export interface ReplicaPool {
  /** How metrics and logs name it: its host and port, never its credentials. */
  name: string;
  url: string;
  pool: pg.Pool;
}

/** `up`: serves reads; `lagging`: behind by more than the bound, skipped; `down`: unreachable, or not a standby; `starting`: not read yet. */
export type ReplicaHealth = 'starting' | 'up' | 'lagging' | 'down';

/** What the poller knows of one replica (read by the metrics at each scrape). */
export interface ReplicaStatus {
  readonly name: string;
  readonly health: ReplicaHealth;
  /** pg_last_wal_replay_lsn() at the last successful reading. */
  readonly replayLsn: Lsn | undefined;
  /** The age of the oldest write it had not replayed at that reading, in ms; 0 when caught up. */
  readonly lagMs: number;
  /** The primary's WAL position minus the replayed one, in bytes; 0 when caught up. */
  readonly lagBytes: bigint;
}

/** Why a request's reads went to the primary. */
export type PrimaryReason =
  /** The operation writes (a mutation): its reads must see its write. */
  | 'write'
  /**
   * A subscription: its replay and the gaps its feed reads must hold every
   * message whose event has come, which follows the commit by milliseconds,
   * before any replica has replayed it.
   */
  | 'subscription'
  /** Every healthy replica was behind the caller's last write (or the client's x-parley-lsn). */
  | 'read-your-writes'
  /** No replica was healthy, and one at least was behind by more than the bound. */
  | 'lagging'
  /** No replica was reachable (or one failed during the request). */
  | 'down'
  /** The caller's last write could not be read (Redis down or late). */
  | 'positions-unavailable';

/** Where a request's reads go. */
export type ReadTarget = { kind: 'primary'; reason: PrimaryReason } | { kind: 'replica'; replica: ReplicaPool; replayLsn: Lsn };

/** Totals since the start, for the metrics. */
export interface RoutingCounters {
  /** Requests whose reads went to each replica, by name. */
  readonly replica: ReadonlyMap<string, number>;
  /** Requests whose reads went to the primary, by reason. */
  readonly primary: ReadonlyMap<PrimaryReason, number>;
  /** Answers read on a replica that had not replayed the last invalidating write: served, not stored. */
  notStored: number;
}

export interface ReplicaSet {
  readonly statuses: readonly ReplicaStatus[];
  readonly counters: RoutingCounters;
  /**
   * A replica for a request's reads: a healthy one that has replayed
   * `needed` (the caller's last write), preferring one that has replayed
   * `floor` (the last write that dropped cached answers). When the last
   * reading says none has, the replicas are read again first.
   * @returns the replica and the replay position it had reached before the request's first read, or why the primary
   */
  choose(needed: Lsn | undefined, floor: Lsn | undefined): Promise<ReadTarget>;
  /** Counts a request's reads going to `target` (choose does not: a request decides once, or again after a failure). */
  count(target: ReadTarget): void;
  /** A request found the replica unreachable: skipped until a reading succeeds again. */
  markDown(replica: ReplicaPool, error: unknown): void;
  /** A position past every transaction the primary has committed, read now (lsn.ts COMMITTED_LSN_SQL). */
  primaryLsn(): Promise<Lsn>;
  /** Reads every replica now, and resolves once done (tests and the first request need not wait for the interval). */
  refresh(): Promise<void>;
  /** Stops polling and closes the poller's connections (not the replicas' pools: the caller's). */
  close(): Promise<void>;
}

export interface ReplicaSetOptions {
  /** The primary (DATABASE_URL): the poller reads its WAL position there. */
  primaryUrl: string;
  replicas: readonly ReplicaPool[];
  settings: ReplicaSettings;
  /** The pool settings (timeouts) the poller's connections take. */
  database: Config['database'];
  /** Where a replica going down, lagging, or coming back is logged, once per change. */
  logger: { warn(details: object, message: string): void; info(details: object, message: string): void };
}

interface State {
  replica: ReplicaPool;
  name: string;
  /** One connection of the poller's own: a reading never waits behind requests for one of the replica's. */
  poll: pg.Pool;
  health: ReplicaHealth;
  replayLsn: Lsn | undefined;
  lagMs: number;
  lagBytes: bigint;
  /** The reading under way, and the one queued after it (see fresh). */
  running: Promise<void> | undefined;
  queued: Promise<void> | undefined;
}

/** The primary's positions read lately, oldest first, each once (an idle primary's repeated position is kept at its first time). */
interface Sample {
  at: number;
  lsn: Lsn;
}

/** Samples kept at most, whatever the bound and the interval. */
const MAX_SAMPLES = 6_000;

/** The name of a replica in metrics and logs: host and port of its URL. */
export function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}`;
}

/** Opens a pool per replica URL; nothing connects until a read. */
export function openReplicaPools(database: Config['database'], options: PoolOptions = {}): ReplicaPool[] {
  return database.replicas.urls.map((url) => ({ name: replicaName(url), url, pool: createPool(url, database, options) }));
}

/** Starts polling the replicas at once; call close() when done. */
export function createReplicaSet({ primaryUrl, replicas, settings, database, logger }: ReplicaSetOptions): ReplicaSet {
  const pollTimeoutMs = Math.max(1_000, 2 * settings.pollIntervalMs);
  const pollDatabase = { ...database, poolMax: 1, connectionTimeoutMs: pollTimeoutMs };
  const primaryPoll = createPool(primaryUrl, pollDatabase, { applicationName: 'parley-replica-poll' });
  const states: State[] = replicas.map((replica) => ({
    replica,
    name: replica.name,
    poll: createPool(replica.url, pollDatabase, { applicationName: 'parley-replica-poll' }),
    health: 'starting',
    replayLsn: undefined,
    lagMs: 0,
    lagBytes: 0n,
    running: undefined,
    queued: undefined,
  }));
  const samples: Sample[] = [];
  const counters = { replica: new Map<string, number>(), primary: new Map<PrimaryReason, number>(), notStored: 0 };
  let turn = 0;
  let closed = false;

  const setHealth = (state: State, health: ReplicaHealth, details: object) => {
    if (state.health === health) return;
    const was = state.health;
    state.health = health;
    if (health === 'up') {
      if (was !== 'starting') logger.info({ replica: state.name, was }, 'read replica back in service');
    } else {
      logger.warn({ replica: state.name, health, ...details }, `read replica ${health === 'down' ? 'unreachable' : 'behind'}: reads skip it`);
    }
  };

  /** Measures the lag of a replica that answered, by the primary's samples, and judges it. */
  const judge = (state: State) => {
    const latest = samples.at(-1);
    const replay = state.replayLsn!;
    if (!latest || replay >= latest.lsn) {
      state.lagMs = 0;
      state.lagBytes = 0n;
    } else {
      state.lagMs = performance.now() - samples.find((sample) => sample.lsn > replay)!.at;
      state.lagBytes = latest.lsn - replay;
    }
    if (state.lagMs > settings.maxLagMs) setHealth(state, 'lagging', { lagMs: Math.round(state.lagMs), lagBytes: Number(state.lagBytes) });
    else setHealth(state, 'up', {});
  };

  const readPrimary = async () => {
    try {
      const { rows } = await withinDeadline(
        primaryPoll.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'),
        pollTimeoutMs,
        'primary WAL position',
      );
      const lsn = parseLsn(rows[0]?.lsn);
      if (lsn === undefined) return;
      const now = performance.now();
      const last = samples.at(-1);
      if (!last || lsn > last.lsn) samples.push({ at: now, lsn });
      // The oldest sample kept is older than the bound (once there is one): a
      // replica behind it, back from an outage, is measured past the bound.
      while (samples.length > 1 && (samples.length > MAX_SAMPLES || now - samples[1]!.at > settings.maxLagMs + settings.pollIntervalMs)) samples.shift();
    } catch {
      // The primary unreachable: requests find out for themselves; lags are measured again once it answers.
    }
  };

  const readReplica = async (state: State) => {
    try {
      const { rows } = await withinDeadline(
        state.poll.query<{ replay: string | null; recovery: boolean }>('SELECT pg_last_wal_replay_lsn()::text AS replay, pg_is_in_recovery() AS recovery'),
        pollTimeoutMs,
        `read replica ${state.name}`,
      );
      const replay = parseLsn(rows[0]?.replay);
      if (rows[0]?.recovery !== true || replay === undefined) {
        // Promoted, or a server that is no standby: it does not follow the primary's writes.
        setHealth(state, 'down', { reason: 'not a standby in recovery' });
        return;
      }
      // As reported, never the furthest seen: a restarted standby may serve from an earlier position.
      state.replayLsn = replay;
      judge(state);
    } catch (error) {
      setHealth(state, 'down', { reason: describeDatabaseError(error) });
    }
  };

  /**
   * A reading of `state` begun at or after this call (positions only move
   * forward: one begun earlier may miss what the caller waits for). One
   * reading per replica at a time: callers during one share the next.
   */
  const fresh = (state: State): Promise<void> => {
    if (state.queued) return state.queued;
    const start = () => {
      const reading = readReplica(state).then(() => {
        if (state.running === reading) state.running = undefined;
      });
      state.running = reading;
      return reading;
    };
    if (!state.running) return start();
    const next = state.running.then(() => {
      state.queued = undefined;
      return start();
    });
    state.queued = next;
    return next;
  };

  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const readAll = async () => {
    await readPrimary();
    await Promise.all(states.map(fresh));
  };
  const tick = () => {
    ticking = readAll().then(() => {
      if (!closed) timer = setTimeout(tick, settings.pollIntervalMs).unref();
    });
  };
  tick();

  const pick = (needed: Lsn | undefined, floor: Lsn | undefined): State | undefined => {
    const candidates = states.filter((state) => state.health === 'up' && (needed === undefined || state.replayLsn! >= needed));
    if (candidates.length === 0) return undefined;
    // Those past the floor first: their answers can be stored.
    const past = floor === undefined ? [] : candidates.filter((state) => state.replayLsn! >= floor);
    const from = past.length > 0 ? past : candidates;
    turn = (turn + 1) % from.length;
    return from[turn];
  };

  const whyPrimary = (): ReadTarget => ({
    kind: 'primary',
    reason: states.some((state) => state.health === 'up') ? 'read-your-writes' : states.some((state) => state.health === 'lagging') ? 'lagging' : 'down',
  });

  return {
    statuses: states,
    counters,

    async choose(needed, floor) {
      let chosen = pick(needed, floor);
      // Read the healthy replicas again (never those down: one that does not answer would hold every request for its timeout).
      if (!chosen || (floor !== undefined && chosen.replayLsn! < floor)) {
        const healthy = states.filter((state) => state.health === 'up');
        if (healthy.length > 0) {
          await Promise.all(healthy.map(fresh));
          chosen = pick(needed, floor);
        }
      }
      return chosen ? { kind: 'replica', replica: chosen.replica, replayLsn: chosen.replayLsn! } : whyPrimary();
    },

    count(target) {
      if (target.kind === 'replica') counters.replica.set(target.replica.name, (counters.replica.get(target.replica.name) ?? 0) + 1);
      else counters.primary.set(target.reason, (counters.primary.get(target.reason) ?? 0) + 1);
    },

    markDown(replica, error) {
      const state = states.find((candidate) => candidate.replica === replica);
      if (state) setHealth(state, 'down', { reason: describeDatabaseError(error) });
    },

    async primaryLsn() {
      const { rows } = await primaryPoll.query<{ lsn: string }>(COMMITTED_LSN_SQL);
      const lsn = parseLsn(rows[0]?.lsn);
      if (lsn === undefined) throw new Error(`the primary reported no WAL position (got ${JSON.stringify(rows[0]?.lsn)})`);
      return lsn;
    },

    refresh: readAll,

    async close() {
      closed = true;
      clearTimeout(timer);
      await ticking;
      clearTimeout(timer);
      await Promise.all([primaryPoll.end(), ...states.map((state) => state.poll.end())]);
    },
  };
}
