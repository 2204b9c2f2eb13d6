// Internal: the database report as text for a terminal: one section per
// concern, aligned columns, long statements cut to the terminal's width.
import type { DatabaseReport, StatementsReport } from './collect.js';
import type { StatementStatistics } from './statistics.js';

/** Tables and indexes listed in full up to this many; the rest are summed on one line. */
const MAX_ROWS = 15;

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(count: number | null): string {
  if (count === null) return '?';
  if (count >= 10_000_000) return `${(count / 1_000_000).toFixed(0)} M`;
  if (count >= 1_000_000) return `${(count / 1_000_000).toFixed(1)} M`;
  return Math.round(count).toLocaleString('en-US');
}

/** A share as a percentage; rounded down, so that 99.996 % never reads as a perfect 100.0 %. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null) return '–';
  const decimals = ratio >= 0.999 && ratio < 1 ? 2 : 1;
  const scale = 10 ** decimals;
  return `${(Math.floor(ratio * 100 * scale) / scale).toFixed(decimals)} %`;
}

export function formatMilliseconds(ms: number | null): string {
  if (ms === null) return '–';
  if (ms >= 1_000) return `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : 1)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : ms < 100 ? 1 : 0)} ms`;
}

export function formatAge(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${Math.round(seconds / 86_400)} d`;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

type Align = 'left' | 'right';

/** Rows under a header, each column as wide as its widest cell; the first column left-aligned, the others right. */
function table(header: string[], rows: string[][], align: Align[] = header.map((_, index) => (index === 0 ? 'left' : 'right'))): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (align[column] === 'left' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `  ${text}`);
}

function shorten(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= width ? flat : `${flat.slice(0, Math.max(1, width - 1))}…`;
}

function statementTable(statements: StatementStatistics[], width: number): string[] {
  if (statements.length === 0) return ['  (none recorded yet)'];
  const cells = statements.map((statement) => [
    formatMilliseconds(statement.meanMs),
    formatCount(statement.calls),
    formatMilliseconds(statement.totalMs),
    formatRatio(statement.cacheHitRatio),
  ]);
  const numbers = table(['mean', 'calls', 'total', 'cache hit'], cells, ['right', 'right', 'right', 'right']);
  // The statement takes what the numbers leave of the line.
  const room = Math.max(30, width - numbers[0]!.length - 2);
  return numbers.map((line, index) => `${line}  ${index === 0 ? 'statement' : shorten(statements[index - 1]!.query, room)}`);
}

function statementsSection(statements: StatementsReport, width: number): string[] {
  if (statements.status !== 'available') return ['Statements (pg_stat_statements)', `  not available: ${statements.note}`];
  const since = statements.since
    ? `counted since ${statements.since.toISOString().slice(0, 16).replace('T', ' ')} UTC; SELECT pg_stat_statements_reset() starts afresh`
    : 'SELECT pg_stat_statements_reset() starts the counts afresh';
  return [
    `Slowest statements (pg_stat_statements, by mean time; ${since})`,
    ...statementTable(statements.slowest, width),
    '',
    'Most frequent statements',
    ...statementTable(statements.mostFrequent, width),
  ];
}

/** The report as text lines, fitted to `width` columns where statements would overflow. */
export function renderReport(report: DatabaseReport, width = 120): string {
  const { database, pool, relations, indexes, cacheHitRatios, materializedViews, serverMetrics } = report;
  const lines: string[] = [];
  const since = database.statsReset
    ? `since ${database.statsReset.toISOString().slice(0, 16).replace('T', ' ')} UTC, their last reset`
    : 'since they began, never reset';

  lines.push(
    `Database ${database.name}: PostgreSQL ${database.serverVersion.split(' ')[0]}, ${formatBytes(database.sizeBytes)}, ` +
      `buffer-cache hit ratio ${formatRatio(database.cacheHitRatio)}; statistics ${since}`,
    '',
  );

  const configured = pool.configured;
  lines.push(
    'Pool',
    `  configured here: ${configured.poolMax} connections at most, ${formatMilliseconds(configured.connectionTimeoutMs)} to get one, ` +
      `idle ones closed after ${formatMilliseconds(configured.idleTimeoutMs)}, statements cancelled after ${formatMilliseconds(configured.statementTimeoutMs)}`,
  );
  if (pool.connections.length === 0) lines.push(`  connected now: nobody else (max_connections ${database.maxConnections})`);
  else {
    lines.push(`  connected now (max_connections ${database.maxConnections}):`);
    lines.push(
      ...table(
        ['application', 'state', 'connections', 'longest in state'],
        pool.connections.map((row) => [row.application, row.state, String(row.connections), formatAge(row.longestSeconds)]),
        ['left', 'left', 'right', 'right'],
      ),
    );
  }
  lines.push('');

  lines.push('Tables and materialized views (largest first)');
  const shownRelations = relations.slice(0, MAX_ROWS);
  lines.push(
    ...table(
      ['name', 'rows', 'total', 'table', 'indexes', 'seq scans', 'index scans'],
      shownRelations.map((relation) => [
        `${relation.name}${relation.kind === 'materialized view' ? ' (view)' : ''}`,
        formatCount(relation.estimatedRows),
        formatBytes(relation.totalBytes),
        formatBytes(relation.tableBytes),
        formatBytes(relation.indexBytes),
        formatCount(relation.sequentialScans),
        formatCount(relation.indexScans),
      ]),
    ),
  );
  if (relations.length > MAX_ROWS) lines.push(`  … and ${relations.length - MAX_ROWS} smaller`);
  lines.push('');

  const unused = indexes.filter((index) => index.unused);
  lines.push('Indexes (most scanned first)');
  const byScans = [...indexes].sort((a, b) => b.scans - a.scans).slice(0, MAX_ROWS);
  lines.push(
    ...table(
      ['index', 'table', 'scans', 'rows read', 'size'],
      byScans.map((index) => [index.name, index.table, formatCount(index.scans), formatCount(index.tuplesRead), formatBytes(index.sizeBytes)]),
      ['left', 'left', 'right', 'right', 'right'],
    ),
  );
  if (indexes.length > MAX_ROWS) lines.push(`  … and ${indexes.length - MAX_ROWS} more`);
  if (unused.length === 0) lines.push('  unused: none (every index was scanned or enforces a constraint)');
  else {
    const total = unused.reduce((sum, index) => sum + index.sizeBytes, 0);
    lines.push(`  unused: ${unused.length} (${formatBytes(total)}), never scanned and enforcing no constraint, yet kept up on every write:`);
    for (const index of unused)
      lines.push(
        `    ${index.name} on ${index.table}, ${formatBytes(index.sizeBytes)}${index.valid ? '' : ' (INVALID: a failed concurrent build, drop and rebuild it)'}`,
      );
  }
  lines.push('');

  lines.push('Buffer-cache hit ratio per table (most read first)');
  const readTables = cacheHitRatios.filter((row) => row.blocksHit + row.blocksRead > 0).slice(0, MAX_ROWS);
  if (readTables.length === 0) lines.push('  no table read yet');
  else {
    lines.push(
      ...table(
        ['table', 'table hits', 'index hits', 'blocks read from outside', 'blocks hit'],
        readTables.map((row) => [
          row.table,
          formatRatio(row.tableHitRatio),
          formatRatio(row.indexHitRatio),
          formatCount(row.blocksRead),
          formatCount(row.blocksHit),
        ]),
      ),
    );
  }
  lines.push('');

  lines.push(...statementsSection(report.statements, width), '');

  lines.push(`Materialized views${materializedViews.refreshLog ? '' : ' (no refresh log table: materialized_view_refreshes is missing)'}`);
  if (materializedViews.views.length === 0) lines.push('  none');
  for (const view of materializedViews.views) {
    const parts = [`${formatCount(view.estimatedRows)} rows`, formatBytes(view.totalBytes)];
    if (!view.populated) parts.push('NOT POPULATED: it cannot be read until refreshed');
    else if (view.refreshedAt && view.ageSeconds !== null) parts.push(`computed ${formatAge(view.ageSeconds)} ago (${view.refreshedAt.toISOString()})`);
    else parts.push('refresh time unknown');
    lines.push(`  ${view.name}: ${parts.join(', ')}`);
    const history = view.history;
    if (history?.lastRun) {
      const last = history.lastRun;
      lines.push(
        `    last refresh ${last.outcome} at ${last.finishedAt.toISOString()} in ${formatMilliseconds(last.durationMs)}` +
          `${last.error ? `: ${shorten(last.error, 80)}` : ''}; last day: ${plural(history.runsLastDay, 'run')}, ${history.failuresLastDay} failed` +
          `${history.meanDurationMsLastDay === null ? '' : `, ${formatMilliseconds(history.meanDurationMsLastDay)} on average`}`,
      );
    } else if (materializedViews.refreshLog) lines.push('    no refresh recorded in the log');
  }
  lines.push('');

  if (serverMetrics.status !== 'available') lines.push('Operations (server metrics)', `  ${serverMetrics.note}`);
  else {
    lines.push(`Operations (${serverMetrics.url}, ${serverMetrics.window})`);
    if (serverMetrics.note) lines.push(`  ${serverMetrics.note}`);
    else {
      const seconds = (value: number | null) => formatMilliseconds(value === null ? null : value * 1000);
      lines.push(
        ...table(
          ['operation', 'requests', 'p50', 'p95', 'p99'],
          serverMetrics.operations.map((operation) => [
            operation.operation,
            formatCount(operation.count),
            seconds(operation.p50),
            seconds(operation.p95),
            seconds(operation.p99),
          ]),
        ),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
