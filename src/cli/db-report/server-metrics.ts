// Internal: the API's own latency per operation, read from a running
// server's Prometheus endpoint: the buckets of one histogram family, summed
// over every label but the operation, and percentiles estimated from them
// as Prometheus's histogram_quantile does (linear within a bucket).

import { OPERATION_DURATION_METRIC, OPERATION_LABEL } from '../../observability/metrics.js';

/** The histogram the server exposes at /metrics (request duration by operation name and outcome), and its operation label. */
export { OPERATION_DURATION_METRIC, OPERATION_LABEL };

export const PERCENTILES = [0.5, 0.95, 0.99] as const;

export interface HistogramSeries {
  /** Every label but `le`. */
  labels: Record<string, string>;
  /** Cumulative counts by upper bound, ascending; the last bound is +Inf. */
  buckets: { le: number; count: number }[];
}

const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_match, character: string) => (character === 'n' ? '\n' : character));
}

/** The series of histogram `family` in a Prometheus text exposition; other families and comments are skipped. */
export function parseHistogram(exposition: string, family: string): HistogramSeries[] {
  const series = new Map<string, HistogramSeries>();
  for (const line of exposition.split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match || match[1] !== `${family}_bucket`) continue;
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name!] = unescapeLabel(value!);
    const { le, ...rest } = labels;
    if (le === undefined) continue;
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
    const entry = series.get(key) ?? { labels: rest, buckets: [] };
    entry.buckets.push({ le: parseValue(le), count: parseValue(match[3]!) });
    series.set(key, entry);
  }
  for (const entry of series.values()) entry.buckets.sort((a, b) => a.le - b.le);
  return [...series.values()];
}

/**
 * The value below which a share `q` of the observations fell, from
 * cumulative buckets: linear within the bucket the rank falls in, the
 * highest finite bound when it falls in +Inf; null without observations.
 */
export function bucketQuantile(q: number, buckets: readonly { le: number; count: number }[]): number | null {
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  const index = buckets.findIndex((bucket) => bucket.count >= rank);
  const bucket = buckets[index]!;
  const previous = buckets[index - 1];
  if (bucket.le === Infinity) return previous?.le ?? null;
  const lower = previous?.le ?? 0;
  const lowerCount = previous?.count ?? 0;
  if (bucket.count === lowerCount) return bucket.le;
  return lower + ((bucket.le - lower) * (rank - lowerCount)) / (bucket.count - lowerCount);
}

export interface OperationLatency {
  operation: string;
  count: number;
  /** Seconds, by percentile (0.5, 0.95, 0.99); null without observations. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Cumulative counts by bound of each operation, every other label summed. */
export type OperationBuckets = Map<string, Map<number, number>>;

export function bucketsByOperation(series: readonly HistogramSeries[], label = OPERATION_LABEL): OperationBuckets {
  const operations: OperationBuckets = new Map();
  for (const { labels, buckets } of series) {
    const operation = labels[label] || '(anonymous)';
    const sums = operations.get(operation) ?? new Map<number, number>();
    for (const { le, count } of buckets) sums.set(le, (sums.get(le) ?? 0) + count);
    operations.set(operation, sums);
  }
  return operations;
}

/**
 * Percentiles of each operation, busiest first. With `since` (an earlier
 * reading), over the observations made after it; an operation whose counts
 * went down was restarted, and is taken whole.
 */
export function operationLatencies(current: OperationBuckets, since?: OperationBuckets): OperationLatency[] {
  const latencies: OperationLatency[] = [];
  for (const [operation, sums] of current) {
    const before = since?.get(operation);
    const reset = before !== undefined && [...sums].some(([le, count]) => count < (before.get(le) ?? 0));
    const buckets = [...sums].map(([le, count]) => ({ le, count: before && !reset ? count - (before.get(le) ?? 0) : count })).sort((a, b) => a.le - b.le);
    const count = buckets.at(-1)?.count ?? 0;
    if (count === 0) continue;
    const [p50, p95, p99] = PERCENTILES.map((q) => bucketQuantile(q, buckets));
    latencies.push({ operation, count, p50: p50!, p95: p95!, p99: p99! });
  }
  return latencies.sort((a, b) => b.count - a.count || a.operation.localeCompare(b.operation));
}

export type ServerMetrics =
  | { status: 'absent'; note: string }
  | { status: 'unreachable'; url: string; note: string }
  | { status: 'available'; url: string; window: string; operations: OperationLatency[]; note?: string };

export interface ServerMetricsReading {
  metrics: ServerMetrics;
  /** What to pass as `since` next time, for percentiles over the interval between two readings. */
  buckets: OperationBuckets | undefined;
}

/**
 * Reads the server's metrics. Without a URL, or when the server does not
 * answer, says so instead of failing: the database report stands alone.
 */
export async function readServerMetrics(
  url: string | undefined,
  options: { since?: { buckets: OperationBuckets; secondsAgo: number }; timeoutMs?: number; token?: string } = {},
): Promise<ServerMetricsReading> {
  if (!url)
    return {
      metrics: { status: 'absent', note: 'no server metrics (pass --metrics-url http://host:port/metrics to read a running server’s)' },
      buckets: undefined,
    };
  let exposition: string;
  try {
    // A production server's /metrics wants its token (METRICS=token): the same METRICS_TOKEN in this environment.
    const authorization: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
    const response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 2_000), headers: { accept: 'text/plain', ...authorization } });
    if (!response.ok)
      return { metrics: { status: 'unreachable', url, note: `no server metrics: ${url} answered HTTP ${response.status}` }, buckets: undefined };
    exposition = await response.text();
  } catch (error) {
    // fetch says "fetch failed"; why is in its cause (ECONNREFUSED, a bad port, …).
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    return { metrics: { status: 'unreachable', url, note: `no server metrics: ${url} did not answer (${reason})` }, buckets: undefined };
  }
  const buckets = bucketsByOperation(parseHistogram(exposition, OPERATION_DURATION_METRIC));
  const operations = operationLatencies(buckets, options.since?.buckets);
  const window = options.since ? `the last ${Math.round(options.since.secondsAgo)} s` : 'since the server started';
  const note =
    buckets.size === 0
      ? `no server metrics: ${url} has no ${OPERATION_DURATION_METRIC} histogram`
      : operations.length === 0
        ? `no operation was timed in ${window}`
        : undefined;
  return { metrics: { status: 'available', url, window, operations, ...(note ? { note } : {}) }, buckets };
}
