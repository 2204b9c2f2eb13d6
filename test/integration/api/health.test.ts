// /health and /ready as a load balancer or an orchestrator sees them: ready
// only when the database answers and holds every migration of this build,
// unchanged; Redis reported (the shared one, and one that is not there),
// never required.
import { once } from 'node:events';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../../../src/config.js';
import { readMigrations } from '../../../src/db/migrate.js';
import { createApp } from '../../../src/app/create-app.js';
import { createServer } from '../../../src/http/server.js';
import { testRedisUrl } from '../../support/database.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../../support/api.js';

async function probe(url: string, path: '/health' | '/ready') {
  const response = await fetch(`${url}${path}`);
  return { status: response.status, cacheControl: response.headers.get('cache-control'), body: (await response.json()) as Record<string, unknown> };
}

async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('/health and /ready', () => {
  let api: TestApi;
  let migrationCount: number;
  beforeAll(async () => {
    api = await startTestApi();
    migrationCount = (await readMigrations()).length;
  });
  afterAll(() => api.close());

  it('are alive and ready on a migrated database, Redis not configured', async () => {
    expect(await probe(api.url, '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await probe(api.url, '/ready')).toEqual({
      status: 200,
      cacheControl: 'no-store',
      body: {
        status: 'ready',
        database: 'ok',
        migrations: { expected: migrationCount, applied: migrationCount, pending: [], changed: [] },
        redis: 'not configured',
      },
    });
  });

  it('are not ready while a migration of this build is not applied, or was applied from another text', async () => {
    const migrations = await readMigrations();
    const last = migrations.at(-1)!.name;
    const first = migrations[0]!.name;
    const db = api.database.pool;
    // As after a deploy whose migration has not run yet.
    const { rows } = await db.query<Record<string, unknown>>('DELETE FROM "_prisma_migrations" WHERE migration_name = $1 RETURNING *', [last]);
    try {
      const pending = await probe(api.url, '/ready');
      expect(pending).toMatchObject({ status: 503, body: { status: 'not ready', database: 'ok', migrations: { pending: [last], changed: [] } } });
    } finally {
      const row = rows[0]!;
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [row.id, row.checksum, row.finished_at, row.migration_name, row.logs, row.rolled_back_at, row.started_at, row.applied_steps_count],
      );
    }
    const { rows: original } = await db.query<{ checksum: string }>('SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1', [first]);
    await db.query('UPDATE "_prisma_migrations" SET checksum = $2 WHERE migration_name = $1', [first, '0'.repeat(64)]);
    try {
      expect(await probe(api.url, '/ready')).toMatchObject({ status: 503, body: { status: 'not ready', migrations: { pending: [], changed: [first] } } });
    } finally {
      await db.query('UPDATE "_prisma_migrations" SET checksum = $2 WHERE migration_name = $1', [first, original[0]!.checksum]);
    }
    expect(await probe(api.url, '/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('report Redis when it answers, and when it does not, without making the server unready', async () => {
    const redis = new Redis(testRedisUrl(), { lazyConnect: true });
    // Nothing listens there: ioredis keeps reconnecting and queues the PING, which never gets an answer.
    const missing = new Redis({ host: '127.0.0.1', port: await closedPort(), lazyConnect: true, retryStrategy: () => 50 });
    missing.on('error', () => {});
    const withRedis = await startTestApi({}, undefined, { checkRedis: () => redis.ping() });
    const withMissingRedis = await startTestApi({}, undefined, { checkRedis: () => missing.ping() });
    try {
      expect(await probe(withRedis.url, '/ready')).toMatchObject({ status: 200, body: { status: 'ready', redis: 'ok' } });
      const started = performance.now();
      expect(await probe(withMissingRedis.url, '/ready')).toMatchObject({ status: 200, body: { status: 'ready', database: 'ok', redis: 'unavailable' } });
      // Told within the check's timeout (1 s), not held for as long as ioredis would retry.
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      await withRedis.close();
      await withMissingRedis.close();
      redis.disconnect();
      missing.disconnect();
    }
  });

  it('are alive but not ready when the database does not answer', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET });
    const pool = new pg.Pool({ connectionString: `postgresql://postgres@127.0.0.1:${await closedPort()}/parley`, connectionTimeoutMillis: 1_000 });
    const server = await createServer(await createApp(config, { pool }));
    await server.fastify.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.fastify.server.address() as AddressInfo).port}`;
    try {
      expect(await probe(url, '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await probe(url, '/ready')).toEqual({
        status: 503,
        cacheControl: 'no-store',
        body: { status: 'not ready', database: 'unavailable', migrations: null, redis: 'not configured' },
      });
    } finally {
      await server.fastify.close();
      await server.app.close();
      await pool.end();
    }
  });
});
