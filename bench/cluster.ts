// `npm run harness:cluster -- [--seconds 60] [--clients 12]` (--help for all):
// three API instances of the production build (dist/main.js, built first
// unless --no-build), each its own process, on a PostgreSQL primary with a
// streaming hot standby as their read replica, a PgBouncer in transaction
// mode in front of the primary (unless --direct), one Redis; a mixed workload of
// reads, writes and subscriptions spread over all three, its invariants
// checked as it runs (test/support/cluster-workload.ts says which and how):
//
//   - no read after a write's answer misses that write (its author's, on any
//     instance, with x-parley-lsn and without; anyone's from a cache hit or
//     the primary; anyone's up to a position a read declares);
//   - no write is lost (and none appears that was not sent), and the standby
//     ends with what the primary has;
//   - every subscriber gets every message of its conversation once, in
//     order, across sessions resumed on other instances;
//   - one statistics refresh per interval across the cluster.
//
// Every server is its own, on free ports (test/support/cluster.ts), so it
// runs beside anything. Writes bench/results/<date>-cluster[-label].json and
// .md; exits 1 when an invariant was broken.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type InstanceCommand } from '../test/support/cluster.js';
import { insertClusterWorld, runClusterWorkload, type ClusterReport, type ClusterWorld } from '../test/support/cluster-workload.js';
import { buildCheckout, startFlags } from './server-process.js';
import { benchArguments } from './arguments.js';
import { writeResults } from './results-files.js';

const USAGE = `Usage: npm run harness:cluster -- [options]
  --seconds N          how long the clients send requests (default 60)
  --instances N        API instances (default 3)
  --clients N          client loops, one user each (default 12)
  --subscribers N      messageAdded subscribers (default 12)
  --conversations N    group conversations (default 6), of --participants users each (default 4)
  --refresh-seconds N  STATS_REFRESH_INTERVAL_SECONDS of every instance (default 3)
  --lag-every-ms N     pause the standby's replay every N ms (default 3000; 0: never)
  --lag-pause-ms N     for this long (default 600: below the 1000 ms lag bound, so the replica keeps serving)
  --direct             DATABASE_URL straight to the primary, no PgBouncer (by default through one, in transaction mode)
  --source             run src/main.ts through tsx instead of a build
  --no-build           use the existing dist/ (otherwise: tsc first, as npm start does)
  --label TEXT         appended to the results' file names`;

const { values, whole } = benchArguments(USAGE, {
  seconds: { type: 'string', default: '60' },
  instances: { type: 'string', default: '3' },
  clients: { type: 'string', default: '12' },
  subscribers: { type: 'string', default: '12' },
  conversations: { type: 'string', default: '6' },
  participants: { type: 'string', default: '4' },
  'refresh-seconds': { type: 'string', default: '3' },
  'lag-every-ms': { type: 'string', default: '3000' },
  'lag-pause-ms': { type: 'string', default: '600' },
  direct: { type: 'boolean', default: false },
  source: { type: 'boolean', default: false },
  'no-build': { type: 'boolean', default: false },
  label: { type: 'string' },
});
const number = (
  name: 'seconds' | 'instances' | 'clients' | 'subscribers' | 'conversations' | 'participants' | 'refresh-seconds' | 'lag-every-ms' | 'lag-pause-ms',
  min: number,
) => whole(name, values[name], min);
const seconds = number('seconds', 1);
const instances = number('instances', 1);
const clients = number('clients', 1);
const subscribers = number('subscribers', 0);
const conversations = number('conversations', 1);
const participants = number('participants', 2);
const refreshSeconds = number('refresh-seconds', 2);
const lagEveryMs = number('lag-every-ms', 0);
const lagPauseMs = number('lag-pause-ms', 1);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => console.log(`[harness:cluster] ${line}`);

let command: InstanceCommand = { script: 'src/main.ts', tsx: true, cwd: root };
if (!values.source) {
  if (!values['no-build']) {
    log('building (tsc -p tsconfig.build.json)');
    await buildCheckout(root);
  }
  command = { script: 'dist/main.js', tsx: false, nodeFlags: await startFlags(root), cwd: root };
}

const loadBefore = os.loadavg();
let world: ClusterWorld | undefined;
log(`starting a primary, its standby, ${values.direct ? '' : 'PgBouncer, '}Redis and ${instances} instances (${command.script})`);
const cluster = await startCluster({
  instances,
  command,
  refreshIntervalSeconds: refreshSeconds,
  pgbouncer: !values.direct,
  prepare: async (pool) => {
    world = await insertClusterWorld(pool, { users: clients, conversations, participants });
  },
});
let report: ClusterReport;
try {
  report = await runClusterWorkload(cluster, world!, {
    durationMs: seconds * 1000,
    clients,
    subscribers,
    lag: lagEveryMs > 0 ? { everyMs: lagEveryMs, pauseMs: lagPauseMs } : undefined,
    log,
  });
} finally {
  await cluster.close();
}

const results = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  loadAverage: { before: loadBefore, after: os.loadavg() },
  build: values.source ? 'src/main.ts through tsx' : 'dist/main.js (npm run build)',
  ...report,
};
const markdown = renderMarkdown(results);
await writeResults({ benchmark: 'cluster', label: values.label }, results, markdown);
console.log(`\n${markdown}`);
if (report.violations > 0) {
  console.error(`${report.violations} violations of the cluster's invariants: see the report.`);
  process.exitCode = 1;
}

function renderMarkdown(results: ClusterReport & { date: string; machine: string; loadAverage: { before: number[]; after: number[] }; build: string }): string {
  const ms = (value: number) => (Number.isNaN(value) ? '–' : value.toFixed(1));
  const load = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
  const { reads, checks, subscriptions, refreshes } = results;
  const primary = Object.entries(reads.fromPrimary)
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
  return [
    `# harness:cluster, ${results.date}`,
    '',
    `${results.machine}; load average ${load(results.loadAverage.before)} before, ${load(results.loadAverage.after)} after.`,
    `${results.instances} instances of ${results.build}, a streaming standby as their read replica, one Redis` +
      `${results.pooled ? ', PgBouncer (transaction mode) in front of the primary' : ''}; ` +
      `${results.clients} clients and ${subscriptions.subscribers} subscribers for ${(results.durationMs / 1000).toFixed(1)} s; ` +
      `statistics refreshed every ${results.refreshIntervalSeconds} s; the standby's replay paused ${results.lagEpisodes} times.`,
    '',
    `**Violations: ${results.violations}**${results.violations > 0 ? ` (${JSON.stringify(results.violationsByKind)})` : ''}`,
    '',
    '| kind | requests | per second | errors | p50 ms | p95 ms | p99 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(results.kinds).map(
      ([kind, figures]) =>
        `| ${kind} | ${figures.requests} | ${figures.perSecond.toFixed(1)} | ${figures.errors} | ${ms(figures.latencyMs.p50)} | ${ms(figures.latencyMs.p95)} | ${ms(figures.latencyMs.p99)} |`,
    ),
    '',
    `Requests per instance: ${results.perInstance.join(', ')}.`,
    `Reads answered from the response cache ${reads.fromCache}, the loader cache ${reads.fromLoaderCache}, a replica ${reads.fromReplica}, the primary ${primary || 0}` +
      `${reads.unknownSource ? `, unknown ${reads.unknownSource}` : ''}; read on a replica behind the last write and not stored: ${reads.notStored}.`,
    '',
    'Checks: ' +
      [
        `${checks.ownWithHeader} reads of the reader's own write with x-parley-lsn and ${checks.ownWithoutHeader} without`,
        `${checks.declared} reads declaring another writer's position`,
        `${checks.servedLatest} answers from a cache or the primary held to the latest write`,
        `${checks.olderFromReplica} older answers from a lagging replica (allowed: neither written nor declared by the reader)`,
        `${checks.acknowledgedWrites} acknowledged writes all found, ${checks.inDoubtWrites} in doubt`,
      ].join('; ') +
      '.',
    '',
    `Subscriptions: ${subscriptions.deliveries} deliveries to ${subscriptions.subscribers} subscribers over ` +
      `${subscriptions.sessions.ws} graphql-ws and ${subscriptions.sessions.multipart} multipart sessions, ${subscriptions.errors} ended by an error; ` +
      `commit to client p50 ${ms(subscriptions.latencyMs.p50)} ms, p95 ${ms(subscriptions.latencyMs.p95)} ms.`,
    '',
    `Refreshes: ${refreshes.succeeded} succeeded (${refreshes.perInterval.toFixed(2)} per interval), ${refreshes.skipped} skipped (lock held), ` +
      `${refreshes.failed} failed; between one's end and the next one's start ${refreshes.minGapMs ?? '–'} to ${refreshes.maxGapMs ?? '–'} ms.`,
    ...(results.violationSamples.length > 0
      ? [
          '',
          '## Violations (first 20)',
          '',
          ...results.violationSamples.flatMap((v) => [`- ${v.kind}: ${v.detail}`, ...(v.context ?? []).map((line) => `  - ${line}`)]),
        ]
      : []),
    ...(results.errorSamples.length > 0 ? ['', '## Errors (first 20)', '', ...results.errorSamples.map((error) => `- ${error}`)] : []),
    '',
  ].join('\n');
}
