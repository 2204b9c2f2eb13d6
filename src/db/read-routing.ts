import type pg from 'pg';
import { formatLsn, laterLsn, type Lsn } from './lsn.js';
import type { RequestPool } from './pool.js';
import type { PrimaryReason, ReadTarget, ReplicaPool, ReplicaSet } from './replica-set.js';
import { isDatabaseUnavailable } from './unavailable.js';
import type { WritePositions } from './write-positions.js';

/**
 * One request's way to the database when there are read replicas: its
 * statements outside a transaction (reads) go to a replica that has
 * replayed what they must see, everything else to the primary. Decided
 * once, at the request's first read, which comes after the response
 * cache's lookup (a cache hit reads nothing, so costs nothing here):
 * - a write (a transaction: `connect`), and every read of an operation
 *   that writes or of a subscription (`primaryOnly`), go to the primary;
 * - otherwise the caller's last write (Redis, or the client's
 *   x-parley-lsn) and the last write of anyone are read in one round trip,
 *   and a replica that has replayed the caller's is chosen (replica-set.ts);
 *   when none has, the primary serves;
 * - an answer read on a replica that had not replayed the last write of
 *   anyone is `storable: false`: that write's invalidation may have run
 *   before this request's lookup, and storing the older answer would
 *   undo it;
 * - a replica that fails (unreachable, or a statement cancelled by a
 *   conflict with its recovery) is skipped, and the statement sent to the
 *   primary instead: a read sent twice changes nothing.
 */
export interface ReadRouting {
  /** Where the request's reads went last: `replica <name>`, `primary (<reason>)`; undefined before its first. */
  readonly servedBy: string | undefined;
  /** False when a read came from a replica behind the last write: the answer is served, not stored. */
  readonly storable: boolean;
  /** Whether the request has begun to read: its target is chosen (or being chosen) by the writes known at that moment. */
  readonly reading: boolean;
  /** Where the request's last write ended in the WAL (`16/B374D848`), for the client to send back as x-parley-lsn; undefined when it wrote nothing. */
  readonly writePosition: string | undefined;
  /**
   * Sends every later read of this request to the primary, for `reason`:
   * its operation writes, and its reads must see that write (`write`, the
   * default); or it is a subscription, whose reads must see what its events
   * announce (`subscription`).
   */
  primaryOnly(reason?: 'write' | 'subscription'): void;
  /**
   * A write of this request committed, ending at `lsn` (undefined: its
   * position could not be read; the primary's current one, read now, is
   * past it): recorded for its author's reads on every instance. Call it
   * before the write's invalidations run.
   */
  wrote(lsn: Lsn | undefined): Promise<void>;
}

export interface ReadRoutingOptions {
  replicas: ReplicaSet;
  positions: WritePositions;
  /** The primary as the request sees it (recording its statements, where something observes them). */
  primary: RequestPool;
  /** A replica's pool as the request sees it (recording, likewise). */
  replicaPool: (pool: pg.Pool) => RequestPool;
  /** The signed-in user, whose last write the reads must see; undefined when signed out. */
  userId: number | undefined;
  /** A position the client says its reads must see (x-parley-lsn, from an earlier write's answer). */
  after: Lsn | undefined;
  /** Whether answers may be stored in a response cache: false (RESPONSE_CACHE=off), the last write of anyone does not matter. */
  cached: boolean;
}

/** A replica error after which the statement is sent to the primary: the replica is unreachable, or cancelled it to replay (40001). */
function replicaFailed(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // A statement timeout (57014) is the statement's own slowness: the primary would take as long.
  return code === '40001' || (code !== '57014' && isDatabaseUnavailable(error));
}

const describe = (target: ReadTarget) => (target.kind === 'replica' ? `replica ${target.replica.name}` : `primary (${target.reason})`);

/** The request's pool (what its loaders, resolvers and writer use) and what it decided. */
export function routeReads(options: ReadRoutingOptions): { pool: RequestPool; routing: ReadRouting } {
  const { replicas, positions, primary, userId, after } = options;
  let current: ReadTarget | undefined;
  let deciding: Promise<ReadTarget> | undefined;
  /** Set once every read must go to the primary, with why. */
  let pinned: PrimaryReason | undefined;
  let storable = true;
  let writePosition: string | undefined;
  const replicaPools = new Map<ReplicaPool, RequestPool>();

  const settle = (target: ReadTarget): ReadTarget => {
    current = target;
    replicas.count(target);
    return target;
  };
  const toPrimary = (reason: PrimaryReason): ReadTarget =>
    current?.kind === 'primary' && current.reason === reason ? current : settle({ kind: 'primary', reason });

  const decide = async (): Promise<ReadTarget> => {
    const found = await positions.read(userId);
    if (!found) return { kind: 'primary', reason: 'positions-unavailable' };
    if (!options.cached) return replicas.choose(laterLsn(found.user, after), undefined);
    const target = await replicas.choose(laterLsn(found.user, after), found.floor);
    if (target.kind === 'replica' && (found.floor === undefined || target.replayLsn < found.floor)) {
      storable = false;
      replicas.counters.notStored += 1;
    }
    return target;
  };

  const target = async (): Promise<ReadTarget> => {
    if (pinned) return toPrimary(pinned);
    if (current) return current;
    deciding ??= decide().then((decided) => (pinned ? toPrimary(pinned) : (current ?? settle(decided))));
    return deciding;
  };

  const poolOf = (replica: ReplicaPool): RequestPool => {
    let pool = replicaPools.get(replica);
    if (!pool) replicaPools.set(replica, (pool = options.replicaPool(replica.pool)));
    return pool;
  };

  const query = async (text: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> => {
    const chosen = await target();
    if (chosen.kind === 'primary') return primary.query(text, values);
    try {
      return await poolOf(chosen.replica).query(text, values);
    } catch (error) {
      if (!replicaFailed(error)) throw error;
      if ((error as { code?: unknown }).code !== '40001') replicas.markDown(chosen.replica, error);
      if (current === chosen) toPrimary('down');
      return primary.query(text, values);
    }
  };

  const routing: ReadRouting = {
    get servedBy() {
      return current && describe(current);
    },
    get storable() {
      return storable;
    },
    get reading() {
      return deciding !== undefined || current !== undefined;
    },
    get writePosition() {
      return writePosition;
    },
    primaryOnly(reason = 'write') {
      pinned ??= reason;
    },
    async wrote(lsn) {
      pinned = 'write';
      const position = lsn ?? (await replicas.primaryLsn().catch(() => undefined));
      // Neither could be read (the primary is failing): nothing to record; this request's reads stay on the primary.
      if (position === undefined) return;
      writePosition = formatLsn(position);
      await positions.record(userId, position);
    },
  };

  return {
    pool: {
      query: query as pg.Pool['query'],
      connect: () => {
        // A transaction: the one write path (writes/writer.ts).
        pinned = 'write';
        toPrimary('write');
        return primary.connect();
      },
    },
    routing,
  };
}
