// Three API instances together, each its own process, on a primary with a
// streaming standby, PgBouncer in transaction mode in front of the primary
// and a Redis, all of this file's own (test/support/cluster.ts), under a
// short mixed workload of reads, writes
// and subscriptions spread over all three (test/support/cluster-workload.ts):
// no read after a write's answer misses that write, no write is lost, every
// subscriber gets every message once and in order, the cluster refreshes the
// statistics once per interval, and no instance's cache serves an answer a
// write has replaced. `npm run harness:cluster` runs the same for 60 s and
// reports its figures (docs/scale-out.md#several-instances-together).
import { checkDeliveries, checkRefreshes, ClusterLedger } from '../support/cluster-ledger.js';
import { insertClusterWorld, runClusterWorkload, type ClusterWorld } from '../support/cluster-workload.js';
import { startCluster, type Cluster } from '../support/cluster.js';

let cluster: Cluster;
let world: ClusterWorld;

describe('three instances under a mixed workload', () => {
  beforeAll(async () => {
    cluster = await startCluster({
      instances: 3,
      refreshIntervalSeconds: 2,
      prepare: async (pool) => {
        world = await insertClusterWorld(pool, { users: 8, conversations: 4, participants: 4 });
      },
    });
  }, 90_000);
  afterAll(() => cluster?.close(), 60_000);

  it('holds every invariant, and each check had something to check', async () => {
    const report = await runClusterWorkload(cluster, world, {
      durationMs: 12_000,
      clients: 8,
      subscribers: 8,
      lag: { everyMs: 2_000, pauseMs: 600 },
    });
    expect(report.violationSamples).toEqual([]);
    expect(report.violations).toBe(0);
    expect(report.errorSamples).toEqual([]);

    // Not vacuous: every kind ran, on every instance, and each rule met reads it applies to.
    for (const [kind, figures] of Object.entries(report.kinds)) expect({ kind, requests: figures.requests > 0 }).toEqual({ kind, requests: true });
    expect(report.perInstance.every((requests) => requests > 0)).toBe(true);
    expect(report.checks.ownWithHeader).toBeGreaterThan(0);
    expect(report.checks.ownWithoutHeader).toBeGreaterThan(0);
    expect(report.checks.declared).toBeGreaterThan(0);
    expect(report.checks.servedLatest).toBeGreaterThan(0);
    expect(report.reads.fromCache).toBeGreaterThan(0);
    expect(report.reads.fromReplica).toBeGreaterThan(0);
    // Every answer said where it came from.
    expect(report.reads.unknownSource).toBe(0);
    expect(report.lagEpisodes).toBeGreaterThan(0);
    expect(report.subscriptions.sessions.ws).toBeGreaterThan(0);
    expect(report.subscriptions.sessions.multipart).toBeGreaterThan(0);
    expect(report.subscriptions.deliveries).toBeGreaterThan(0);
    expect(report.refreshes.succeeded).toBeGreaterThanOrEqual(3);
    expect(report.pooled).toBe(true);
  }, 90_000);
});

// The checks themselves bite: made-up observations that break each rule.
describe('the cluster ledger', () => {
  it('flags a read that misses its reader’s own write, a declared one, or anyone’s from the cache or the primary', () => {
    const ledger = new ClusterLedger();
    ledger.acknowledge({ entity: 'conversation:1', version: 10, author: 7, lsn: 100n });
    ledger.acknowledge({ entity: 'conversation:1', version: 12, author: 8, lsn: 200n });
    // The author, whatever served it.
    expect(ledger.check(ledger.expect('conversation:1', 7, undefined), 9, 'replica', 'own').violation?.kind).toBe('read-your-writes');
    // … and from the cache, the cache's fault.
    expect(ledger.check(ledger.expect('conversation:1', 7, undefined), 9, 'cache', 'own hit').violation?.kind).toBe('stale-cache-hit');
    // Someone who declared a position past the write.
    expect(ledger.check(ledger.expect('conversation:1', 9, 150n), 9, 'replica', 'declared').violation?.kind).toBe('declared-position');
    expect(ledger.check(ledger.expect('conversation:1', 9, 150n), 10, 'replica', 'declared').violation).toBeUndefined();
    // Anyone, from the cache or the primary; a lagging replica may be older.
    expect(ledger.check(ledger.expect('conversation:1', 9, undefined), 10, 'cache', 'hit').violation?.kind).toBe('stale-cache-hit');
    expect(ledger.check(ledger.expect('conversation:1', 9, undefined), 10, 'loader cache', 'rows').violation?.kind).toBe('stale-cache-hit');
    expect(ledger.check(ledger.expect('conversation:1', 9, undefined), 10, 'primary', 'primary').violation?.kind).toBe('stale-primary-read');
    expect(ledger.check(ledger.expect('conversation:1', 9, undefined), 10, 'replica', 'replica')).toEqual({ violation: undefined, olderFromReplica: true });
    expect(ledger.latestLsn).toBe(200n);
    expect(ledger.violations).toHaveLength(6);
  });

  it('flags deliveries missed, repeated or out of order', () => {
    const ledger = new ClusterLedger();
    expect(checkDeliveries(ledger, 'whole', [1, 2, 3], [1, 2, 3])).toEqual([]);
    expect(checkDeliveries(ledger, 'bad', [1, 3, 3, 2], [1, 2, 3, 4]).map((violation) => violation.kind)).toEqual([
      'subscription-duplicate',
      'subscription-missed',
      'subscription-order',
    ]);
  });

  it('flags refreshes that overlap, come too soon, fail, or stop', () => {
    const ledger = new ClusterLedger();
    const bounds = { intervalMs: 2_000, slackMs: 1_000, maxGapMs: 5_000, runMs: 20_000, runEndsAt: 20_000 };
    const steady = [0, 2_000, 4_100, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 18_000].map((startedAt) => ({ startedAt, finishedAt: startedAt + 50 }));
    expect(checkRefreshes(ledger, steady, { skipped: 2, failed: 0 }, bounds)).toMatchObject({ succeeded: 10, perInterval: 1, skipped: 2 });
    expect(ledger.violations).toEqual([]);
    checkRefreshes(
      ledger,
      [
        { startedAt: 0, finishedAt: 500 },
        { startedAt: 400, finishedAt: 600 },
        { startedAt: 900, finishedAt: 1_000 },
        { startedAt: 9_000, finishedAt: 9_100 },
      ],
      { skipped: 0, failed: 1 },
      bounds,
    );
    expect(ledger.violations.map((violation) => violation.kind)).toEqual([
      'refresh-overlap',
      'refresh-too-soon',
      'refresh-gap',
      'refresh-gap',
      'refresh-failed',
    ]);
  });
});
