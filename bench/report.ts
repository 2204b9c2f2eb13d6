// Internal: the Markdown of bench/results/<date>.md.
import type { ProfileSummary } from './cpu-profile.js';
import type { BenchScale, BenchViewer } from './database.js';
import type { PageTiming } from './inbox-page.js';
import type { LoadWindow } from './load.js';
import type { LatencySummary, Spread } from './stats.js';

/** One mode's figures over the interleaved rounds. */
export interface ModeFigures {
  /** The operation the mode sends (an OperationFigures name). */
  operation: string;
  throughput: Spread;
  latency: LatencySummary;
  cpuMsPerRequest: Spread | null;
  /** PostgreSQL's CPU per request (every postgres process), the load generator's (a server's modes), and the share of the machine busy (absent in results written before they were measured). */
  postgresCpuMsPerRequest?: Spread | null;
  loadCpuMsPerRequest?: Spread | null;
  machineBusy?: Spread | null;
  perRound: { throughput: number; p50: number; p95: number; p99: number; cpuMsPerRequest: number | null }[];
  /** SQL statements per request, from the server's sql_statements_total (the after-write modes, whose answers change). */
  statementsPerRequest?: Spread | null;
}

/** One GraphQL operation measured, as one request of it was recorded in-process. */
export interface OperationFigures {
  /** The operation's name: Inbox (the client's) or Reference (the reference query). */
  name: string;
  responseBytes: number;
  statements: number;
  /** Its statements as indented lines, each under the one it waited for: what its floor replays. */
  statementPlan: string[];
}

/** What bench/inbox.ts measured: written as JSON beside the report, and rendered by renderReport. */
export interface BenchResults {
  date: string;
  commit: string;
  uncommittedChanges: boolean;
  baseline: { ref: string; commit: string } | null;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; postgres: string; loadAverage: number[] };
  data: BenchScale;
  /** Every operation is asked for this viewer's conversations with these page sizes. */
  variables: { conversations: number; messages: number };
  viewer: BenchViewer;
  operations: OperationFigures[];
  /** firstWarmupMs: the warm-up of each mode's first window (absent in results written before it existed). */
  window: LoadWindow & { rounds: number; firstWarmupMs?: number };
  /** --node-flags: this build's servers' extra node flags (results before it was named so have nodeOptions, which went through NODE_OPTIONS). */
  nodeFlags?: string | null;
  modes: { [mode: string]: ModeFigures };
  /** The Inbox operation: floor ÷ API requests/s. */
  graphqlOverFloor: Spread | null;
  /** The reference query: its floor ÷ the API's requests/s. */
  referenceOverFloor: Spread | null;
  batchingSpeedup: Spread | null;
  apiOverQuiet: Spread | null;
  /** API (compiled reads) ÷ the same build answering through its resolvers (SQL_READS=false). */
  sqlReadsSpeedup?: Spread | null;
  apiOverBaseline: Spread | null;
  /** The after-write modes: reads/s with the loader cache over the cold miss (api), and over the same writes without it. */
  afterWriteOverCold?: Spread | null;
  loaderCacheSpeedup?: Spread | null;
  /** Writes per second into the viewer's conversations during the after-write modes. */
  writeRate?: number | null;
  answersIdenticalToBaseline: boolean | null;
  inboxPage: Pick<PageTiming, 'viewer' | 'roundTrip' | 'executionMs' | 'plan'>[];
  heaviestOverMedianPage: { roundTrip: number; execution: number };
  heaviestOverLightestFullPage: { roundTrip: number; execution: number };
  profiles: { mode: 'api' | 'after-write' | 'baseline'; file: string; summary: ProfileSummary; throughput: number }[];
}

const MODE_NAMES: Record<string, string> = {
  api: 'API (this build)',
  floor: 'SQL floor: the same statements through pg',
  unbatched: 'API, DATALOADER_BATCH=false (resolvers)',
  resolvers: 'API, SQL_READS=false: the resolvers answer',
  quiet: 'API, METRICS=off, request and slow logs off',
  baseline: 'API, baseline build',
  'after-write': 'API, inbox after writes, loader cache on',
  'after-write-off': 'API, inbox after writes, loader cache off',
  reference: 'API (this build), reference query',
  'reference-floor': "SQL floor: the reference query's statements through pg",
};

const OPERATION_NAMES: Record<string, string> = {
  Inbox: 'the Inbox client operation',
  Reference: 'the reference query (participants and authors; no last message, unread counts or stats)',
};

const fixed = (value: number, digits = 1) => value.toFixed(digits);
const spread = (value: Spread, digits = 1, unit = '') => `${fixed(value.median, digits)}${unit} (${fixed(value.min, digits)}–${fixed(value.max, digits)})`;

export function renderReport(results: BenchResults): string {
  const lines: string[] = [];
  const { data, variables, viewer, operations, window, machine } = results;
  const statementsOf = (name: string) => operations.find((operation) => operation.name === name)?.statements;
  lines.push(
    `# Inbox benchmark (${results.date.slice(0, 10)})`,
    '',
    `Commit ${results.commit.slice(0, 10)}${results.uncommittedChanges ? ' with uncommitted changes' : ''}` +
      (results.baseline ? `; baseline ${results.baseline.ref} (${results.baseline.commit.slice(0, 10)})` : '') +
      (results.nodeFlags ? `; this build's servers ran with \`${results.nodeFlags}\`` : '') +
      `. ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}, PostgreSQL ${machine.postgres} on the same host` +
      ` (load average at the end ${machine.loadAverage.map((value) => value.toFixed(1)).join(' ')}).`,
    '',
    `Data: ${data.users} users, ${data.conversations} conversations, ${data.messages} messages (seed ${data.seed}).` +
      ` ${operations.length > 1 ? 'Operations' : 'Operation'}, ${variables.conversations} conversations × ${variables.messages} messages` +
      ` for user ${viewer.userId} (in ${viewer.conversations} conversations): ` +
      operations
        .map(
          (operation) =>
            `${OPERATION_NAMES[operation.name] ?? operation.name}, ${operation.statements} SQL statements, ${Math.round(operation.responseBytes / 1024)} KB of JSON`,
        )
        .join('; ') +
      '.',
    '',
  );
  const modes = Object.entries<ModeFigures>(results.modes);
  if (modes.length > 0) {
    lines.push(
      `${window.connections} connections, closed loop; ${window.rounds} interleaved rounds of ${window.warmupMs / 1000} s warm-up + ` +
        `${window.durationMs / 1000} s counted per mode${window.firstWarmupMs && window.firstWarmupMs > window.warmupMs ? ` (${window.firstWarmupMs / 1000} s warm-up before each mode's first window)` : ''}. Servers are child processes in production mode; requests/s is the median ` +
        `of the rounds (min–max), latency percentiles over every request of all rounds, CPU per request of the process under load` +
        ` (the server, or the floor's replaying process).`,
      '',
      '| mode | operation | requests/s | p50 | p95 | p99 | CPU ms / request | statements / request |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const [mode, figures] of modes) {
      lines.push(
        `| ${MODE_NAMES[mode] ?? mode} | ${figures.operation} | ${spread(figures.throughput)} | ${fixed(figures.latency.p50)} ms | ${fixed(figures.latency.p95)} ms |` +
          ` ${fixed(figures.latency.p99)} ms | ${figures.cpuMsPerRequest ? spread(figures.cpuMsPerRequest) : 'n/a'} |` +
          ` ${figures.statementsPerRequest ? spread(figures.statementsPerRequest, 2) : statementsOf(figures.operation)} |`,
      );
    }
    const accounted = modes.filter(([, figures]) => figures.postgresCpuMsPerRequest);
    if (accounted.length > 0) {
      lines.push(
        '',
        "Where the machine's CPU went, per request (medians of the rounds): the process under load (as above), every PostgreSQL process," +
          " and the benchmark's own process sending the load (a server's modes; the floor sends its own), with the share of the machine" +
          ' (all cores) busy during the windows. Whatever one request costs any of them, the others wait for on these shared cores.',
        '',
        '| mode | process under load | PostgreSQL | load generator | together | machine busy |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
      );
      for (const [mode, figures] of accounted) {
        const parts = [figures.cpuMsPerRequest, figures.postgresCpuMsPerRequest, figures.loadCpuMsPerRequest].map((part) => part?.median ?? null);
        const together = parts.reduce<number>((sum, part) => sum + (part ?? 0), 0);
        lines.push(
          `| ${MODE_NAMES[mode] ?? mode} | ${parts.map((part) => (part === null ? '–' : `${fixed(part, 2)} ms`)).join(' | ')} | ${fixed(together, 2)} ms |` +
            ` ${figures.machineBusy ? `${fixed(figures.machineBusy.median * 100, 0)} %` : 'n/a'} |`,
        );
      }
    }
    if (results.writeRate) {
      lines.push(
        '',
        `The after-write modes read the same inbox while \`sendMessage\` writes ${results.writeRate} message(s) per second into a random one of the viewer's` +
          ` conversations, as another participant, through a second instance sharing the first's Redis; the response cache is off in both` +
          ' (every read is a miss), so what differs is the loader cache (LOADER_CACHE). Statements per request for them are read from the' +
          " server's sql_statements_total; for the others, the statements of one request as recorded. Their messages change the inbox" +
          ' every later window reads (short messages take its top): the floors are measured in runs without them.',
      );
    }
    lines.push('');
    const ratios: [string, Spread | null, string][] = [
      ['graphqlOverFloor', results.graphqlOverFloor, 'floor requests/s ÷ API requests/s (budget ≤ 1.5 for the Inbox operation)'],
      ['referenceOverFloor', results.referenceOverFloor, 'reference-floor requests/s ÷ reference requests/s (budget ≤ 1.3 for the reference query)'],
      ['sqlReadsSpeedup', results.sqlReadsSpeedup ?? null, 'API (compiled reads) ÷ the same build through its resolvers (SQL_READS=false)'],
      ['batchingSpeedup', results.batchingSpeedup, 'the resolvers ÷ the resolvers with DATALOADER_BATCH=false'],
      ['apiOverQuiet', results.apiOverQuiet, 'API (metrics and request log on) ÷ the same with them off (budget ≥ 0.95)'],
      ['apiOverBaseline', results.apiOverBaseline, 'API ÷ baseline build'],
      ['afterWriteOverCold', results.afterWriteOverCold ?? null, 'inbox after writes with the loader cache ÷ the cold miss (api) (target ≥ 3)'],
      ['loaderCacheSpeedup', results.loaderCacheSpeedup ?? null, 'inbox after writes, loader cache on ÷ off'],
    ];
    for (const [name, value, meaning] of ratios) {
      if (value) lines.push(`- **${name}** ${spread(value, 2, '×')}: ${meaning}, per round (median, min–max)`);
    }
    if (results.answersIdenticalToBaseline !== null) {
      lines.push(`- answers byte-identical to the baseline's: ${results.answersIdenticalToBaseline ? 'yes' : '**no**'}`);
    }
    lines.push(
      '',
      '<details><summary>Per round</summary>',
      '',
      '| round | mode | requests/s | p50 | p95 | p99 | CPU ms / request |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    );
    for (let round = 0; round < window.rounds; round += 1) {
      for (const [mode, figures] of modes) {
        const r = figures.perRound[round]!;
        lines.push(
          `| ${round + 1} | ${mode} | ${fixed(r.throughput)} | ${fixed(r.p50)} | ${fixed(r.p95)} | ${fixed(r.p99)} | ${r.cpuMsPerRequest === null ? 'n/a' : fixed(r.cpuMsPerRequest)} |`,
        );
      }
    }
    lines.push('', '</details>', '');
  }

  lines.push(
    '## The inbox page statement',
    '',
    `The page of ${variables.conversations} conversations alone (findInboxPages), sequential round trips from the benchmark` +
      ` alternating between the viewers, and PostgreSQL's Execution Time (median of 7 EXPLAIN ANALYZE).`,
    '',
    '| viewer | conversations | round trip p50 | p95 | execution |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  const [heaviest, median, lightestFullPage] = results.inboxPage;
  const viewers = [
    ['heaviest', heaviest!],
    ['median', median!],
    ['fewest conversations that fill a page', lightestFullPage!],
  ] as const;
  for (const [name, page] of viewers) {
    lines.push(
      `| ${name} (user ${page.viewer.userId}) | ${page.viewer.conversations} | ${fixed(page.roundTrip.p50, 2)} ms | ${fixed(page.roundTrip.p95, 2)} ms | ${fixed(page.executionMs, 3)} ms |`,
    );
  }
  const { heaviestOverMedianPage: overMedian, heaviestOverLightestFullPage: overFull } = results;
  lines.push(
    '',
    `Heaviest ÷ median: ${fixed(overMedian.roundTrip, 2)}× round trip, ${fixed(overMedian.execution, 2)}× execution` +
      ` (the median viewer's page holds ${Math.min(median!.viewer.conversations, variables.conversations)} rows).` +
      ` Heaviest ÷ fewest conversations that fill a page: ${fixed(overFull.roundTrip, 2)}× round trip, ${fixed(overFull.execution, 2)}× execution.`,
    '',
  );
  for (const [name, page] of viewers.slice(0, 2)) {
    lines.push(`<details><summary>EXPLAIN (ANALYZE, BUFFERS), ${name} viewer</summary>`, '', '```', page.plan, '```', '', '</details>', '');
  }

  for (const operation of operations) {
    lines.push(
      `## What the floor replays: ${operation.name}`,
      '',
      'Each statement is sent when the one above it completes, as the resolvers sent it:',
      '',
      '```',
      ...operation.statementPlan,
      '```',
      '',
    );
  }

  for (const profile of results.profiles) {
    lines.push(
      `## CPU profile: ${MODE_NAMES[profile.mode]}`,
      '',
      `${profile.file} (not committed), main thread busy ${fixed(profile.summary.busyMs / 1000)} s of the ${fixed(profile.summary.windowMs / 1000)} s window, ${fixed(profile.throughput)} requests/s under the profiler.`,
      '',
      '| self time | % of busy | function |',
      '| ---: | ---: | --- |',
      ...profile.summary.top.map((entry) => `| ${fixed(entry.selfMs, 0)} ms | ${fixed(entry.percent)} | \`${entry.function}\` |`),
      '',
      'By area: ' +
        profile.summary.areas
          .slice(0, 12)
          .map((area) => `${area.area} ${fixed(area.percent)}%`)
          .join(', ') +
        '.',
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
