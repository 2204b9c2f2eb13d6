// Internal: the bookkeeping behind the cluster workload's invariants
// (test/support/cluster-workload.ts), pure, so that a test can feed it
// made-up observations and see each check bite.
//
// Every entity a read shows has a version that only grows in commit order:
// a conversation's newest message id (ids are drawn under the
// conversation's lock), a user's display name `<name>#<n>` (only its owner
// renames it, one rename at a time), the leaderboard's refreshedAt. A
// write is acknowledged when its answer arrives (a refresh: once it is
// committed and its invalidation has had time to run). What a read must
// show is fixed when it is sent, from the writes acknowledged by then:
//
//   own       the reader's own writes to the entity, whatever served it
//             (read-your-writes, on any instance, with or without x-parley-lsn);
//   declared  every write whose position is at or before the x-parley-lsn
//             the read sends, whatever served it;
//   served    every write, when the answer came from the response cache,
//             the loader cache or the primary: after a write's answer no
//             instance serves the old answer from a cache, and the primary has it. Only
//             an answer read on a replica (not stored) may be older, and
//             only for a reader who neither wrote nor declared the write.
// A stale answer from the cache counts as the cache's fault (stale-cache-hit),
// whichever of the three it broke.
import type { Lsn } from '../../src/db/lsn.js';

/** `conversation:<id>`, `user:<id>` or `leaderboard`. */
export type EntityKey = string;

export interface AcknowledgedWrite {
  entity: EntityKey;
  version: number;
  /** The user who wrote it; undefined for the refresh job. */
  author?: number;
  /** Its x-parley-lsn; undefined for the refresh job. */
  lsn?: Lsn;
}

/**
 * Where an answer came from: the response cache (x-cache HIT), the loader
 * cache (no statement sent: x-sql-statements 0), else where its statements
 * went (x-parley-read-from).
 */
export type AnswerSource = 'cache' | 'loader cache' | 'replica' | 'primary';

/** What a read must show, fixed when it is sent. */
export interface Expectation {
  entity: EntityKey;
  /** The reader's own latest write to it (0: none). */
  own: number;
  /** The latest write at or before the position the read declared (0: none declared, or none before it). */
  declared: number;
  /** The latest write of anyone. */
  served: number;
}

export type ViolationKind =
  | 'read-your-writes'
  | 'declared-position'
  | 'stale-cache-hit'
  | 'stale-primary-read'
  | 'lost-write'
  | 'phantom-write'
  | 'replica-diverged'
  | 'subscription-missed'
  | 'subscription-duplicate'
  | 'subscription-order'
  | 'refresh-too-soon'
  | 'refresh-overlap'
  | 'refresh-gap'
  | 'refresh-failed';

export interface Violation {
  kind: ViolationKind;
  detail: string;
  /** What happened to the entity just before, oldest first (the workload's trace), to tell why. */
  context?: string[];
}

/** What one read was held to: the rule that decided, and whether an older answer was allowed because a replica served it. */
export type ReadVerdict = { violation: Violation } | { violation: undefined; olderFromReplica: boolean };

export class ClusterLedger {
  readonly violations: Violation[] = [];
  private readonly latest = new Map<EntityKey, number>();
  private readonly ownLatest = new Map<string, number>();
  private readonly positioned = new Map<EntityKey, { lsn: Lsn; version: number }[]>();
  private newestLsn: Lsn | undefined;

  /** A write's answer arrived (or a refresh was committed and invalidated). */
  acknowledge(write: AcknowledgedWrite): void {
    this.latest.set(write.entity, Math.max(this.latest.get(write.entity) ?? 0, write.version));
    if (write.author !== undefined) {
      const key = `${write.entity}|${write.author}`;
      this.ownLatest.set(key, Math.max(this.ownLatest.get(key) ?? 0, write.version));
    }
    if (write.lsn !== undefined) {
      const list = this.positioned.get(write.entity) ?? [];
      list.push({ lsn: write.lsn, version: write.version });
      this.positioned.set(write.entity, list);
      if (this.newestLsn === undefined || write.lsn > this.newestLsn) this.newestLsn = write.lsn;
    }
  }

  /** The latest acknowledged version of an entity (0: none). */
  version(entity: EntityKey): number {
    return this.latest.get(entity) ?? 0;
  }

  /** The position of the latest acknowledged write: what a client that heard of every write would send. */
  get latestLsn(): Lsn | undefined {
    return this.newestLsn;
  }

  /** What a read of `entity` by `reader` (undefined: signed out), declaring `declared` (x-parley-lsn), must show, as of now. */
  expect(entity: EntityKey, reader: number | undefined, declared: Lsn | undefined): Expectation {
    let declaredVersion = 0;
    if (declared !== undefined) {
      for (const write of this.positioned.get(entity) ?? []) if (write.lsn <= declared) declaredVersion = Math.max(declaredVersion, write.version);
    }
    return {
      entity,
      own: reader === undefined ? 0 : (this.ownLatest.get(`${entity}|${reader}`) ?? 0),
      declared: declaredVersion,
      served: this.version(entity),
    };
  }

  /** Checks an answer showing `version`, from `source`, against what it had to show; records a violation. `what` names the read in the report. */
  check(expected: Expectation, version: number, source: AnswerSource, what: string): ReadVerdict {
    const rules: [ViolationKind, number, string][] = [
      ['read-your-writes', expected.own, 'the reader’s own write'],
      ['declared-position', expected.declared, 'a write at or before the position it declared'],
      [source === 'primary' ? 'stale-primary-read' : 'stale-cache-hit', source === 'replica' ? 0 : expected.served, 'a write of anyone'],
    ];
    const broken = rules.find(([, required]) => version < required);
    if (!broken) return { violation: undefined, olderFromReplica: version < expected.served };
    const [rule, required, whose] = broken;
    // An answer from a cache is the cache's fault, whichever rule it broke.
    const kind = source === 'cache' || source === 'loader cache' ? 'stale-cache-hit' : rule;
    const violation = {
      kind,
      detail: `${what}: ${expected.entity} at version ${version} from the ${source}, after version ${required} (${whose}) was acknowledged`,
    };
    this.violations.push(violation);
    return { violation };
  }

  /** Records a violation found outside reads (the final checks). */
  record(kind: ViolationKind, detail: string): void {
    this.violations.push({ kind, detail });
  }
}

/**
 * Checks one subscriber's deliveries against the messages committed to its
 * conversation after its starting cursor (`expected`, in commit order):
 * each exactly once, in order. Returns the violations, recorded too.
 */
export function checkDeliveries(ledger: ClusterLedger, who: string, received: readonly number[], expected: readonly number[]): Violation[] {
  const before = ledger.violations.length;
  const seen = new Set<number>();
  for (const id of received) {
    if (seen.has(id)) ledger.record('subscription-duplicate', `${who}: message ${id} delivered twice`);
    seen.add(id);
  }
  const wanted = new Set(expected);
  const missed = expected.filter((id) => !seen.has(id));
  if (missed.length > 0)
    ledger.record('subscription-missed', `${who}: ${missed.length} of ${expected.length} messages never delivered (first ${missed.slice(0, 5).join(', ')})`);
  const strangers = received.filter((id) => !wanted.has(id));
  if (strangers.length > 0)
    ledger.record(
      'subscription-missed',
      `${who}: delivered ${strangers.length} messages not committed to its conversation (${strangers.slice(0, 5).join(', ')})`,
    );
  const order = received.filter((id) => wanted.has(id));
  const firstOutOfOrder = order.findIndex((id, index) => index > 0 && id <= order[index - 1]!);
  if (firstOutOfOrder > 0) ledger.record('subscription-order', `${who}: message ${order[firstOutOfOrder]} delivered after ${order[firstOutOfOrder - 1]}`);
  return ledger.violations.slice(before);
}

/** A succeeded refresh, as materialized_view_refreshes records it (ms since the epoch). */
export interface RefreshSpan {
  startedAt: number;
  finishedAt: number;
}

export interface RefreshFigures {
  succeeded: number;
  skipped: number;
  failed: number;
  /** Succeeded refreshes per interval of the run: 1 when the cluster refreshes once per interval. */
  perInterval: number;
  /** Between one refresh's end and the next one's start. */
  minGapMs: number | null;
  maxGapMs: number | null;
}

/**
 * One refresh per interval across the cluster (src/jobs/stats-refresher.ts):
 * refreshes never overlap (the lock), a refresh starts no sooner than
 * `intervalMs - slackMs` after the previous one ended (a tick finding a
 * fresh one does nothing), and one follows within `maxGapMs` (some instance
 * ticks every interval), until the run ends at `runEndsAt`. `refreshes` in
 * start order, those that started within the run of `runMs`.
 */
export function checkRefreshes(
  ledger: ClusterLedger,
  refreshes: readonly RefreshSpan[],
  counts: { skipped: number; failed: number },
  bounds: { intervalMs: number; slackMs: number; maxGapMs: number; runMs: number; runEndsAt: number },
): RefreshFigures {
  const gaps: number[] = [];
  for (let index = 1; index < refreshes.length; index += 1) {
    const previous = refreshes[index - 1]!;
    const next = refreshes[index]!;
    const gap = next.startedAt - previous.finishedAt;
    gaps.push(gap);
    if (next.startedAt < previous.finishedAt) ledger.record('refresh-overlap', `a refresh started ${-gap} ms before the previous one ended`);
    else if (gap < bounds.intervalMs - bounds.slackMs)
      ledger.record('refresh-too-soon', `a refresh started ${gap} ms after the previous one ended (interval ${bounds.intervalMs} ms)`);
    if (gap > bounds.maxGapMs) ledger.record('refresh-gap', `no refresh for ${gap} ms (interval ${bounds.intervalMs} ms)`);
  }
  const last = refreshes.at(-1);
  if (!last) ledger.record('refresh-gap', `no refresh in ${bounds.runMs} ms (interval ${bounds.intervalMs} ms)`);
  else if (bounds.runEndsAt - last.finishedAt > bounds.maxGapMs)
    ledger.record('refresh-gap', `no refresh in the last ${bounds.runEndsAt - last.finishedAt} ms of the run (interval ${bounds.intervalMs} ms)`);
  if (counts.failed > 0) ledger.record('refresh-failed', `${counts.failed} refreshes failed`);
  return {
    succeeded: refreshes.length,
    skipped: counts.skipped,
    failed: counts.failed,
    perInterval: refreshes.length / (bounds.runMs / bounds.intervalMs),
    minGapMs: gaps.length > 0 ? Math.min(...gaps) : null,
    maxGapMs: gaps.length > 0 ? Math.max(...gaps) : null,
  };
}
