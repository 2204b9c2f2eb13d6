// What operators and developers see of a request: the one log line per
// GraphQL request, the slow logs, /metrics (and who may read it), and
// extensions.sql. Statements are recorded through the request's own pool and
// loaders, the one count x-sql-statements reads too (statements.test.ts
// holds it against the driver's). The servers answer through the resolvers
// (SQL_READS=false), whose loaders name the statements; a compiled read's one
// statement is named too (below).
import pg from 'pg';
import { InboxDocument, SendMessageDocument } from '../../../src/generated/graphql/operations.js';
import { OPERATION_DURATION_METRIC, readServerMetrics } from '../../../src/cli/db-report/server-metrics.js';
import { SQL_HEADER, type SqlExtension } from '../../../src/http/observability.js';
import { toGlobalId } from '../../../src/graphql/relay/global-id.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertInbox, type InboxFixture } from '../../support/fixtures.js';
import { captureLog, type CapturedLog, type LogEntry } from '../../support/log.js';

const INBOX_VARIABLES = { conversations: 5, messages: 5 };
/** What the inbox costs in statements (statements.test.ts holds the budget). */
const INBOX_STATEMENTS = 8;
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const INFO = 30;
const WARN = 40;

interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of `name` in a Prometheus text exposition. */
function samples(exposition: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]));
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

const sum = (found: Sample[]) => found.reduce((total, sample) => total + sample.value, 0);

/** The request lines of a captured log (one per GraphQL request). */
const requestLines = (log: CapturedLog) => log.entries().filter((entry) => entry.graphql !== undefined) as (LogEntry & { graphql: Record<string, unknown> })[];

let inbox: InboxFixture;
let token: string;
let api: TestApi;
let log: CapturedLog;

beforeAll(async () => {
  log = captureLog();
  api = await startTestApi({ RESPONSE_CACHE: 'on', LOG_LEVEL: 'info', SQL_READS: 'false' }, undefined, { logStream: log.stream });
  inbox = await insertInbox(api.database.pool, { conversations: 5, messagesEach: 5 });
  token = await api.tokenFor(inbox.viewer.id);
});
afterAll(async () => {
  await api.close();
});

/** Another server on the same database. */
const sibling = (env: Record<string, string>, logStream?: NodeJS.WritableStream) =>
  startTestApi({ SQL_READS: 'false', ...env }, { ...api.database, close: async () => {} }, { logStream });

describe('/metrics', () => {
  it('after one GraphQL request, has every family, fed by what the request did', async () => {
    const server = await sibling({ RESPONSE_CACHE: 'on' });
    try {
      // The refresh log has a successful run (insertInbox refreshed); the inbox runs (a miss) once.
      const result = await server.request(InboxDocument, INBOX_VARIABLES, { token });
      expect(result.errors).toBeUndefined();
      expect(result.statements).toBe(INBOX_STATEMENTS);

      const response = await server.send({ method: 'GET', path: '/metrics' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const text = response.text;

      const requests = samples(text, `${OPERATION_DURATION_METRIC}_count`);
      expect(requests).toEqual([{ labels: { operation: 'Inbox', outcome: 'success' }, value: 1 }]);
      expect(samples(text, 'graphql_operations_total')).toEqual([{ labels: { operation: 'Inbox', outcome: 'success', code: '' }, value: 1 }]);
      // Every statement the driver saw, each named by the loader that sent it.
      const statements = samples(text, 'sql_statements_total');
      expect(sum(statements)).toBe(INBOX_STATEMENTS);
      expect(statements.map((sample) => sample.labels.loader)).not.toContain('(none)');
      expect(sum(samples(text, 'sql_statement_duration_seconds_count'))).toBe(INBOX_STATEMENTS);
      // One batch per loader and statement; the inbox page batched one key, the participants five.
      expect(sum(samples(text, 'dataloader_batch_size_count'))).toBe(INBOX_STATEMENTS);
      expect(samples(text, 'dataloader_batch_size_sum').find((sample) => sample.labels.loader === 'participantsByConversation')?.value).toBe(5);
      expect(
        samples(text, 'db_pool_connections')
          .map((sample) => sample.labels.state)
          .sort(),
      ).toEqual(['idle', 'total', 'waiting']);
      expect(samples(text, 'db_pool_connections').find((sample) => sample.labels.state === 'total')!.value).toBeGreaterThan(0);
      expect(samples(text, 'db_pool_max_connections')[0]!.value).toBeGreaterThan(0);
      expect(samples(text, 'cache_requests_total')).toEqual([{ labels: { outcome: 'miss' }, value: 1 }]);
      for (const counter of ['cache_stores_total', 'cache_invalidations_total', 'cache_invalidated_answers_total', 'cache_errors_total']) {
        expect({ counter, found: samples(text, counter).length }).toEqual({ counter, found: 1 });
      }
      expect(
        samples(text, 'rate_limit_rejections_total')
          .map((sample) => sample.labels.bucket)
          .sort(),
      ).toEqual(['points', 'writes']);
      expect(samples(text, 'rate_limit_unmetered_total')).toHaveLength(1);
      const age = samples(text, 'materialized_view_age_seconds');
      expect(age).toEqual([{ labels: { view: 'user_stats_summary' }, value: expect.any(Number) }]);
      expect(age[0]!.value).toBeGreaterThanOrEqual(0);
      expect(samples(text, 'materialized_view_refresh_duration_seconds')).toEqual([{ labels: { view: 'user_stats_summary' }, value: expect.any(Number) }]);
      // The default process metrics.
      for (const family of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
        expect({ family, found: samples(text, family).length > 0 }).toEqual({ family, found: true });
      }
    } finally {
      await server.close();
    }
  });

  it('counts what a cache hit, a refused request and a write did', async () => {
    const server = await sibling({ RESPONSE_CACHE: 'on' });
    try {
      await server.request(InboxDocument, INBOX_VARIABLES, { token });
      const hit = await server.request(InboxDocument, INBOX_VARIABLES, { token });
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.statements).toBe(0);
      const refused = await server.request('{ viewer { id ');
      expect(refused.status).toBe(400);
      const sent = await server.request(
        SendMessageDocument,
        { conversationId: toGlobalId('Conversation', inbox.conversationIds[0]!), body: 'counted', messages: 1 },
        { token },
      );
      expect(sent.errors).toBeUndefined();

      const text = (await server.send({ method: 'GET', path: '/metrics' })).text;
      const operations = samples(text, 'graphql_operations_total');
      expect(operations).toEqual(
        expect.arrayContaining([
          { labels: { operation: 'Inbox', outcome: 'success', code: '' }, value: 2 },
          { labels: { operation: '(none)', outcome: 'error', code: 'GRAPHQL_PARSE_FAILED' }, value: 1 },
          { labels: { operation: 'SendMessage', outcome: 'success', code: '' }, value: 1 },
        ]),
      );
      expect(samples(text, 'cache_requests_total')).toEqual(
        expect.arrayContaining([
          { labels: { outcome: 'miss' }, value: 1 },
          { labels: { outcome: 'hit' }, value: 1 },
          { labels: { outcome: 'bypass' }, value: 2 },
        ]),
      );
      // The write's statements (BEGIN … COMMIT) are sent outside any loader; every statement is counted.
      expect(sum(samples(text, 'sql_statements_total'))).toBe(INBOX_STATEMENTS + sent.statements);
      expect(samples(text, 'sql_statements_total').find((sample) => sample.labels.loader === '(none)')?.value).toBeGreaterThan(0);
      expect(samples(text, 'cache_invalidations_total')[0]!.value).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('labels operation names clients invent as they come, up to a limit, then as (other)', async () => {
    const server = await sibling({});
    try {
      await server.request('query { viewer { id } }');
      for (let index = 0; index < 105; index += 1) await server.request(`query Invented${index} { viewer { id } }`);
      const labels = samples((await server.send({ method: 'GET', path: '/metrics' })).text, 'graphql_operations_total');
      const names = new Set(labels.map((sample) => sample.labels.operation));
      expect(names.has('(anonymous)')).toBe(true);
      expect(names.has('Invented99')).toBe(true);
      expect(names.has('Invented100')).toBe(false);
      expect(labels.find((sample) => sample.labels.operation === '(other)')?.value).toBe(5);
    } finally {
      await server.close();
    }
  });

  it('is what npm run db:report reads its percentiles from', async () => {
    const server = await sibling({ NODE_ENV: 'production', METRICS_TOKEN });
    try {
      for (let index = 0; index < 3; index += 1) await server.request(InboxDocument, INBOX_VARIABLES, { token });
      const { metrics } = await readServerMetrics(`${server.url}/metrics`, { token: METRICS_TOKEN });
      expect(metrics).toMatchObject({ status: 'available', operations: [{ operation: 'Inbox', count: 3 }] });
      const unauthorized = await readServerMetrics(`${server.url}/metrics`);
      expect(unauthorized.metrics).toMatchObject({ status: 'unreachable', note: expect.stringMatching(/answered HTTP 401$/) });
    } finally {
      await server.close();
    }
  });

  describe('in production', () => {
    it('is off unless configured', async () => {
      const server = await sibling({ NODE_ENV: 'production' });
      try {
        expect((await server.send({ method: 'GET', path: '/metrics' })).status).toBe(404);
        expect(server.server.app.metrics?.registry).toBeUndefined();
      } finally {
        await server.close();
      }
    });

    it('answers only with its token (METRICS_TOKEN)', async () => {
      const server = await sibling({ NODE_ENV: 'production', METRICS_TOKEN });
      try {
        await server.request('{ __typename }');
        for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcdef' }, { authorization: METRICS_TOKEN }] as Record<string, string>[]) {
          const refused = await server.send({ method: 'GET', path: '/metrics', headers });
          expect(refused.status).toBe(401);
          expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
          expect(refused.headers.get('cache-control')).toBe('no-store');
          expect(refused.text).not.toContain(OPERATION_DURATION_METRIC);
        }
        const allowed = await server.send({ method: 'GET', path: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
        expect(allowed.status).toBe(200);
        expect(allowed.text).toContain(`${OPERATION_DURATION_METRIC}_count{operation="(anonymous)",outcome="success"} 1`);
      } finally {
        await server.close();
      }
    });
  });
});

describe('the request log', () => {
  it('writes one line per GraphQL request with what it did', async () => {
    const before = requestLines(log).length;
    const miss = await api.request(InboxDocument, INBOX_VARIABLES, { token });
    const hit = await api.request(InboxDocument, INBOX_VARIABLES, { token });
    const refused = await api.request('{ viewer { nope } }');
    await api.send({ method: 'GET', path: '/health' });
    const lines = requestLines(log).slice(before);
    expect(lines).toHaveLength(3);

    const [missLine, hitLine, refusedLine] = lines;
    expect(missLine).toMatchObject({
      level: INFO,
      reqId: miss.headers.get('x-request-id'),
      msg: 'GraphQL request',
      graphql: {
        operationName: 'Inbox',
        viewerId: inbox.viewer.id,
        status: 200,
        durationMs: expect.any(Number),
        sqlStatements: INBOX_STATEMENTS,
        sqlMs: expect.any(Number),
        cache: 'MISS',
        cost: (miss.extensions!.cost as { requested: number }).requested,
        outcome: 'success',
      },
    });
    expect(missLine!.graphql.sqlMs).toBeGreaterThan(0);
    expect(missLine!.graphql.code).toBeUndefined();
    // Served before Apollo Server: no SQL, and the cost is in the stored answer only.
    expect(hitLine).toMatchObject({
      reqId: hit.headers.get('x-request-id'),
      graphql: { operationName: 'Inbox', viewerId: inbox.viewer.id, status: 200, sqlStatements: 0, cache: 'HIT', outcome: 'success' },
    });
    expect(refusedLine).toMatchObject({
      reqId: refused.headers.get('x-request-id'),
      graphql: { status: 400, sqlStatements: 0, outcome: 'error', code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(refusedLine!.graphql.operationName).toBeUndefined();
    expect(refusedLine!.graphql.viewerId).toBeUndefined();
  });

  it('counts the statements of a write, and says the first error code of a partial answer', async () => {
    const before = requestLines(log).length;
    const sent = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', inbox.conversationIds[1]!), body: 'logged', messages: 1 },
      { token },
    );
    const missing = await api.request(
      `query Missing($id: ID!) { viewer { id } conversation(id: $id) { id } }`,
      { id: toGlobalId('Conversation', 2_000_000_000) },
      { token },
    );
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const [sentLine, missingLine] = requestLines(log).slice(before);
    expect(sentLine).toMatchObject({ graphql: { operationName: 'SendMessage', sqlStatements: sent.statements, cache: 'BYPASS', outcome: 'success' } });
    expect(sent.statements).toBeGreaterThan(4);
    expect(missingLine).toMatchObject({
      graphql: { operationName: 'Missing', status: 200, sqlStatements: missing.statements, outcome: 'error', code: 'NOT_FOUND' },
    });
  });

  it('is one line in production too, where Fastify writes none of its own', async () => {
    const production = captureLog();
    const server = await sibling({ NODE_ENV: 'production', LOG_LEVEL: 'info' }, production.stream);
    try {
      const result = await server.request(InboxDocument, INBOX_VARIABLES, { token });
      await server.send({ method: 'GET', path: '/ready' });
      expect(result.headers.get('x-sql-statements')).toBeNull();
      const entries = production.entries().filter((entry) => entry.reqId !== undefined);
      expect(entries).toHaveLength(1);
      // The statements are counted in production too, where no x-sql-statements header tells them.
      expect(entries[0]).toMatchObject({ msg: 'GraphQL request', graphql: { operationName: 'Inbox', sqlStatements: INBOX_STATEMENTS, status: 200 } });
    } finally {
      await server.close();
    }
  });
});

describe('the slow logs', () => {
  it('warn of a slow statement and a slow operation, with the statement shortened and no parameter', async () => {
    const slow = captureLog();
    const server = await sibling({ LOG_LEVEL: 'warn', SLOW_STATEMENT_MS: '100', SLOW_OPERATION_MS: '150' }, slow.stream);
    const blocker = new pg.Client({ connectionString: api.database.url });
    await blocker.connect();
    const needle = 'needle-7f3a9c';
    try {
      // Held for 300 ms: the request's statement on users waits for it.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
      const pending = server.request(`query Lookup($name: String!) { userByUsername(username: $name) { id } }`, { name: needle });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await blocker.query('COMMIT');
      const result = await pending;
      expect(result.errors).toBeUndefined();

      const entries = slow.entries();
      const statement = entries.find((entry) => entry.msg === 'slow SQL statement') as (LogEntry & { sql: Record<string, unknown> }) | undefined;
      expect(statement).toMatchObject({
        level: WARN,
        reqId: result.headers.get('x-request-id'),
        operationName: 'Lookup',
        sql: { statement: 'SELECT … FROM users WHERE username = lower($1)', loader: null },
      });
      expect(statement!.sql.durationMs).toBeGreaterThanOrEqual(200);
      const operation = entries.find((entry) => entry.msg === 'slow GraphQL operation');
      expect(operation).toMatchObject({
        level: WARN,
        graphql: { operationName: 'Lookup', sqlStatements: 1, status: 200 },
        slowestStatement: { statement: statement!.sql.statement, loader: null },
      });
      // Nothing at info under LOG_LEVEL=warn; the parameter is in no line.
      expect(entries.filter((entry) => entry.level < WARN)).toEqual([]);
      expect(JSON.stringify(entries)).not.toContain(needle);
    } finally {
      await blocker.end();
      await server.close();
    }
  });

  it('do not count a wait for a free connection as a statement’s time', async () => {
    // A server whose pool has one connection, held here for 300 ms while the request waits for it.
    const pool = new pg.Pool({ connectionString: api.database.url, max: 1 });
    const waiting = captureLog();
    const server = await startTestApi(
      { LOG_LEVEL: 'warn', SLOW_STATEMENT_MS: '250', SLOW_OPERATION_MS: '250' },
      { ...api.database, pool, close: () => pool.end() },
      { logStream: waiting.stream },
    );
    try {
      const held = await pool.connect();
      const pending = server.request(`query Waits { viewer { id } }`, {}, { token, headers: { [SQL_HEADER]: '1' } });
      // The 300 ms count from when the request waits for the connection, not
      // from when it was sent: on a loaded machine it reaches the server late.
      for (let attempt = 0; pool.waitingCount === 0; attempt += 1) {
        if (attempt === 2_000) throw new Error('the request never waited for the pool’s connection');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      held.release();
      const result = await pending;
      expect(result.errors).toBeUndefined();
      const sql = result.extensions!.sql as SqlExtension;
      expect(sql.count).toBe(1);
      expect(sql.durationMs).toBeLessThan(250);
      // The request was slow, its statement was not.
      const entries = waiting.entries();
      expect(entries.map((entry) => entry.msg)).toEqual(['slow GraphQL operation']);
      expect((entries[0]!.graphql as { durationMs: number }).durationMs).toBeGreaterThanOrEqual(300);
    } finally {
      await server.close();
    }
  });

  it('cut long statements, and are off at 0', async () => {
    const quiet = captureLog();
    const server = await sibling({ LOG_LEVEL: 'warn', SLOW_STATEMENT_MS: '0', SLOW_OPERATION_MS: '0' }, quiet.stream);
    try {
      await server.request(InboxDocument, INBOX_VARIABLES, { token });
      expect(quiet.entries()).toEqual([]);
    } finally {
      await server.close();
    }
    const cut = captureLog();
    const eager = await sibling({ LOG_LEVEL: 'warn', SLOW_STATEMENT_MS: '1', SLOW_OPERATION_MS: '1' }, cut.stream);
    const blocker = new pg.Client({ connectionString: api.database.url });
    await blocker.connect();
    try {
      // The inbox page statement is long; held up on conversations, it takes over 1 ms whatever the machine.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE');
      const pending = eager.request(InboxDocument, INBOX_VARIABLES, { token });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await blocker.query('COMMIT');
      expect((await pending).errors).toBeUndefined();
      const page = cut.entries().find((entry) => entry.msg === 'slow SQL statement' && (entry.sql as { loader: string }).loader === 'inboxPage');
      const text = (page!.sql as { statement: string }).statement;
      expect(text.length).toBeLessThanOrEqual(200);
      expect(text).toContain('…');
      expect(text).not.toMatch(/\s{2}|\n/);
    } finally {
      await blocker.end();
      await eager.close();
    }
  });
});

describe('extensions.sql', () => {
  const askSql = { [SQL_HEADER]: '1' };

  it('lists the statements of a request that asks, each with its loader, outside production', async () => {
    const result = await api.request(InboxDocument, INBOX_VARIABLES, { token, headers: askSql });
    expect(result.errors).toBeUndefined();
    const sql = result.extensions!.sql as SqlExtension;
    expect(sql.count).toBe(result.statements);
    expect(sql.statements).toHaveLength(INBOX_STATEMENTS);
    expect(sql.durationMs).toBeGreaterThan(0);
    for (const statement of sql.statements) {
      expect(statement).toEqual({ text: expect.stringMatching(/^(SELECT|WITH) /), durationMs: expect.any(Number), loader: expect.any(String) });
    }
    expect(sql.statements.map((statement) => statement.loader)).toEqual(
      expect.arrayContaining(['userById', 'inboxPage', 'participantsByConversation', 'messagesByConversation']),
    );
    // The cost is still there beside it.
    expect(result.extensions!.cost).toEqual({ requested: expect.any(Number), limit: 50_000 });
    // Not asked: not there.
    expect((await api.request(InboxDocument, INBOX_VARIABLES, { token })).extensions!.sql).toBeUndefined();
  });

  it('lists a compiled read as its one statement, named as such', async () => {
    const server = await sibling({ SQL_READS: 'true' });
    try {
      const result = await server.request(InboxDocument, INBOX_VARIABLES, { token, headers: askSql });
      expect(result.errors).toBeUndefined();
      const sql = result.extensions!.sql as SqlExtension;
      expect(sql.count).toBe(1);
      expect(sql.statements).toEqual([
        { text: expect.stringMatching(/^SELECT concat\('\{"viewer":'/), durationMs: expect.any(Number), loader: 'compiledRead' },
      ]);
    } finally {
      await server.close();
    }
  });

  it('names no loader for a write’s statements', async () => {
    const result = await api.request(
      SendMessageDocument,
      { conversationId: toGlobalId('Conversation', inbox.conversationIds[2]!), body: 'with its SQL', messages: 1 },
      { token, headers: askSql },
    );
    const sql = result.extensions!.sql as SqlExtension;
    expect(sql.count).toBe(result.statements);
    expect(sql.statements).toContainEqual({ text: 'BEGIN', durationMs: expect.any(Number), loader: null });
    expect(sql.statements.map((statement) => statement.text)).toContain('COMMIT');
    expect(JSON.stringify(sql)).not.toContain('with its SQL');
  });

  it('is never stored in the response cache, nor served from it', async () => {
    const server = await sibling({ RESPONSE_CACHE: 'on' });
    try {
      const variables = { conversations: 3, messages: 2 };
      // Asked first: it runs, and is not stored.
      const asked = await server.request(InboxDocument, variables, { token, headers: askSql });
      expect(asked.headers.get('x-cache')).toBe('BYPASS');
      expect((asked.extensions!.sql as SqlExtension).count).toBe(INBOX_STATEMENTS);
      const miss = await server.request(InboxDocument, variables, { token });
      expect(miss.headers.get('x-cache')).toBe('MISS');
      expect(miss.extensions!.sql).toBeUndefined();
      // Stored now: a request that asks still runs, with its own statements.
      const askedAgain = await server.request(InboxDocument, variables, { token, headers: askSql });
      expect(askedAgain.headers.get('x-cache')).toBe('BYPASS');
      expect((askedAgain.extensions!.sql as SqlExtension).count).toBe(INBOX_STATEMENTS);
      expect(askedAgain.data).toEqual(miss.data);
      // And the stored answer has none.
      const hit = await server.request(InboxDocument, variables, { token });
      expect(hit.headers.get('x-cache')).toBe('HIT');
      expect(hit.extensions!.sql).toBeUndefined();
      expect(hit.extensions!.cost).toEqual(miss.extensions!.cost);
    } finally {
      await server.close();
    }
  });

  it('is never given in production: the header is ignored', async () => {
    const server = await sibling({ NODE_ENV: 'production', RESPONSE_CACHE: 'on' });
    try {
      const first = await server.request(InboxDocument, INBOX_VARIABLES, { token, headers: askSql });
      expect(first.errors).toBeUndefined();
      expect(first.extensions!.sql).toBeUndefined();
      expect(first.headers.get('x-cache')).toBe('MISS');
      const second = await server.request(InboxDocument, INBOX_VARIABLES, { token, headers: askSql });
      expect(second.headers.get('x-cache')).toBe('HIT');
      expect(second.extensions!.sql).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
