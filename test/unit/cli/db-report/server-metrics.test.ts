import { Histogram, Registry } from 'prom-client';
import {
  bucketQuantile,
  bucketsByOperation,
  OPERATION_DURATION_METRIC,
  operationLatencies,
  parseHistogram,
} from '../../../../src/cli/db-report/server-metrics.js';

/** What prom-client, which the server's /metrics uses, writes for `observations` (seconds) by operation and outcome. */
async function exposition(observations: { operation: string; outcome: string; seconds: number }[]): Promise<string> {
  const registry = new Registry();
  const histogram = new Histogram({
    name: OPERATION_DURATION_METRIC,
    help: 'GraphQL request duration',
    labelNames: ['operation', 'outcome'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  new Histogram({ name: 'other_seconds', help: 'another family', buckets: [1], registers: [registry] }).observe(0.5);
  for (const { operation, outcome, seconds } of observations) histogram.observe({ operation, outcome }, seconds);
  return registry.metrics();
}

/** 1 ms to 100 ms, one each, for `operation`; the odd ones failed. */
const uniform = (operation: string) =>
  Array.from({ length: 100 }, (_, index) => ({ operation, outcome: index % 2 ? 'error' : 'success', seconds: (index + 1) / 1000 }));

describe('server metrics', () => {
  it('reads percentiles per operation from prom-client’s histogram, summed over outcomes', async () => {
    const text = await exposition([
      ...uniform('Inbox'),
      ...uniform('Inbox')
        .slice(0, 10)
        .map((o) => ({ ...o, operation: 'Profile' })),
    ]);
    const series = parseHistogram(text, OPERATION_DURATION_METRIC);
    expect(series).toHaveLength(4); // two operations × two outcomes; other_seconds is not read
    const latencies = operationLatencies(bucketsByOperation(series));
    expect(latencies.map((latency) => latency.operation)).toEqual(['Inbox', 'Profile']);
    const inbox = latencies[0]!;
    expect(inbox.count).toBe(100);
    // Buckets hold 10, 25, 50, 100 observations: the 50th falls at 50 ms, the 95th at 95 ms by interpolation.
    expect(inbox.p50).toBeCloseTo(0.05, 10);
    expect(inbox.p95).toBeCloseTo(0.095, 10);
    expect(inbox.p99).toBeCloseTo(0.099, 10);
    // 1–10 ms: all in the first bucket, interpolated from 0.
    expect(latencies[1]).toMatchObject({ operation: 'Profile', count: 10 });
    expect(latencies[1]!.p50).toBeCloseTo(0.005, 10);
  });

  it('keeps label values with quotes, backslashes and newlines apart', async () => {
    const names = ['Say "hi"', 'back\\slash', 'two\nlines'];
    const text = await exposition(names.map((operation) => ({ operation, outcome: 'success', seconds: 0.02 })));
    expect([...bucketsByOperation(parseHistogram(text, OPERATION_DURATION_METRIC)).keys()].sort()).toEqual([...names].sort());
  });

  it('says the highest finite bound when the rank falls beyond it, and null without observations', () => {
    const buckets = [
      { le: 0.1, count: 90 },
      { le: Infinity, count: 100 },
    ];
    expect(bucketQuantile(0.99, buckets)).toBe(0.1);
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.1 * (50 / 90), 10);
    expect(bucketQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNull();
  });

  it('measures over the interval between two readings, and whole after a restart', async () => {
    const before = bucketsByOperation(parseHistogram(await exposition(uniform('Inbox')), OPERATION_DURATION_METRIC));
    // Then 100 slow requests (200 ms each).
    const slow = Array.from({ length: 100 }, () => ({ operation: 'Inbox', outcome: 'success', seconds: 0.2 }));
    const after = bucketsByOperation(parseHistogram(await exposition([...uniform('Inbox'), ...slow]), OPERATION_DURATION_METRIC));
    const interval = operationLatencies(after, before)[0]!;
    expect(interval.count).toBe(100);
    expect(interval.p50).toBeGreaterThan(0.1);
    expect(operationLatencies(after)[0]!.count).toBe(200);
    // A server restarted between the readings counts from zero again: its counts are taken whole.
    const restarted = bucketsByOperation(parseHistogram(await exposition(slow.slice(0, 10)), OPERATION_DURATION_METRIC));
    expect(operationLatencies(restarted, after)[0]!.count).toBe(10);
  });
});
