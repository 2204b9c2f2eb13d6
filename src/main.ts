// The composition root: reads the configuration, opens the database (the
// server at DATABASE_URL or the embedded one), migrates it, seeds demo data
// into an empty development database, connects to Redis when REDIS_URL is
// set, starts the statistics refresh, and serves /graphql until SIGTERM.
import { loadConfig, type Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate, readMigrations } from './db/migrate.js';
import { checkStatementTimeout } from './db/pool.js';
import { describeDatabaseError } from './db/unavailable.js';
import { createRedisClient, createRedisSubscriber, type Redis } from './db/redis.js';
import { createApp } from './app/create-app.js';
import { createServer } from './http/server.js';
import { startStatsRefresher } from './jobs/stats-refresher.js';
import { CliError, runCli } from './cli/run-cli.js';

await runCli(async () => {
  const config = loadConfig();
  const say = (line: string) => console.log(`parley: ${line}`);
  // A connection the server closes while it idles (a restart, a failover,
  // pg_terminate_backend) is discarded by the pool and reported here: on
  // stderr until the server's logger exists, then as a warning in the log.
  let reportLostConnection = (error: Error) => console.warn(`parley: an idle database connection was lost: ${error.message}`);
  const database = await openDatabase(config, {
    applicationName: 'parley-api',
    shares: true,
    replicas: true,
    onError: (error) => reportLostConnection(error),
  });
  say(describeDatabase(database, config.embedded.dataDir));

  // Read once: /ready compares the database with this build's migrations on every probe.
  const migrationFiles = await readMigrations();
  // A step of the start that fails closes what is open, or the embedded
  // database's socket (and Redis's reconnecting client) would keep the
  // process alive after the error.
  let openRedis: Redis[] = [];
  const orClose = <T>(step: Promise<T>): Promise<T> =>
    step.catch(async (error: unknown) => {
      for (const connection of openRedis) connection.disconnect();
      await database.close();
      throw error;
    });
  const demoUserId = await orClose(prepareDatabase(database, config, say));

  // Made once, shared by everything that uses Redis. Requests never wait for
  // it to connect: the response cache answers from the database meanwhile, and
  // rate limits and persisted queries fail open.
  const redis = config.redisUrl ? createRedisClient({ url: config.redisUrl }) : undefined;
  // The event bus's own connection: a subscribed connection can send nothing else. The app closes it.
  const redisSubscriber = config.redisUrl ? createRedisSubscriber({ url: config.redisUrl }) : undefined;
  openRedis = [redis, redisSubscriber].filter((connection) => connection !== undefined);
  const app = await orClose(
    createApp(config, {
      pool: database.pool,
      redis,
      migrations: migrationFiles.map(({ name, checksum }) => ({ name, checksum })),
      redisSubscriber,
      poolErrors: database.poolErrors,
      replicas: database.replicas,
    }),
  );
  const { responseCache, auth } = app;
  if (database.replicas.length > 0) {
    say(
      `reads go to ${database.replicas.length === 1 ? 'the read replica' : `${database.replicas.length} read replicas`} at DATABASE_REPLICA_URLS (${database.replicas.map((replica) => replica.name).join(', ')}) once they have replayed what each must see`,
    );
  }
  const { fastify, apollo, explorerPath } = await orClose(createServer(app));
  if (!config.responseCache) say('response cache off (RESPONSE_CACHE=off)');
  else say(redis ? 'response cache in Redis at REDIS_URL' : 'response cache in this process (set REDIS_URL to share it between instances)');
  if (!app.loaderCache) say('loader cache off (LOADER_CACHE=off)');
  else say(redis ? 'loader cache in this process, checked against Redis at REDIS_URL before each use' : 'loader cache in this process');
  if (!config.rateLimit.enabled) say('rate limits off (RATE_LIMIT=off)');
  else say(redis ? 'rate limits counted in Redis at REDIS_URL' : 'rate limits counted in this process (set REDIS_URL to share them between instances)');
  say(
    redis
      ? 'subscriptions hear every instance through Redis at REDIS_URL'
      : 'subscriptions hear this instance only (set REDIS_URL to share events between instances)',
  );
  reportLostConnection = (error) =>
    fastify.log.warn(
      { reason: describeDatabaseError(error), idleConnectionsLost: database.poolErrors.idleConnectionsLost },
      'idle database connection lost; the pool discarded it',
    );
  // Each refresh changes every leaderboard and every user's statistics: the cache drops those answers.
  const refresher = startStatsRefresher({
    pool: database.pool,
    logger: fastify.log.child({ job: 'stats-refresh' }),
    ...config.statsRefresh,
    afterRefresh: responseCache || app.loaderCache ? (event) => app.invalidate(event.tags) : undefined,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining requests and closing`);
    // Apollo's drain plugin closes Fastify: no new connections, requests in
    // flight finish (cut after 10 s); a refresh in progress is cancelled (the
    // next instance to tick redoes it); then Redis, the pool and the embedded database close.
    await Promise.all([apollo.stop(), refresher.stop()]);
    await app.close();
    await redis?.quit().catch(() => redis.disconnect());
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await fastify.listen({ host: config.http.host, port: config.http.port }).catch(async (error: NodeJS.ErrnoException) => {
    await refresher.stop();
    redis?.disconnect();
    redisSubscriber?.disconnect();
    await database.close();
    if (error.code === 'EADDRINUSE') throw new CliError(`Port ${config.http.port} is in use: stop what listens there, or set PORT to another port.`);
    throw error;
  });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  // The address it listens on, so a developer sees whether it is reachable from elsewhere (HOST).
  const host = typeof address === 'object' && address ? (address.family === 'IPv6' ? `[${address.address}]` : address.address) : config.http.host;
  say(`GraphQL at http://${host}:${port}/graphql`);
  if (explorerPath) say(`explorer (works offline) at http://${host}:${port}${explorerPath}`);
  else if (config.env !== 'production')
    say('no offline explorer: ruru, a development dependency, is not installed (Apollo Sandbox at /graphql needs internet)');
  if (demoUserId !== undefined) {
    // Made first, then printed with its heading in one write: no log line can fall between the two.
    const token = await auth.issueToken(demoUserId);
    console.log(`parley: demo token for user ${demoUserId} (send as Authorization: Bearer <token>):\n${token}`);
  }
  if (!config.auth.jwtSecret) say(`JWT_SECRET is unset: tokens are signed with the secret kept in ${config.auth.secretFile}`);
});

function describeDatabase(database: Database, dataDir: string): string {
  if (database.pooled) return 'PostgreSQL through the pooler at DATABASE_URL (migrations at DATABASE_DIRECT_URL)';
  if (!database.embedded) return 'PostgreSQL at DATABASE_URL';
  const { owner } = database.embedded;
  return owner
    ? `embedded PostgreSQL (PGlite) in ${dataDir}, through ${owner.name} (pid ${owner.pid}), which has it open`
    : `embedded PostgreSQL (PGlite) in ${dataDir}`;
}

/** Migrates, seeds demo data into an empty database outside production, then shares an embedded one; returns the demo user's id. */
async function prepareDatabase(database: Database, config: Config, say: (line: string) => void): Promise<number | undefined> {
  // On the database itself: the runner's lock lasts its session.
  const migrations = await database.withDirectPool((pool) => migrate(pool, { log: (line) => say(line) }));
  if (migrations.applied.length > 0) say(`applied ${migrations.applied.length} migrations`);
  if (database.pooled) {
    const problem = await checkStatementTimeout(database.pool, config.database.statementTimeoutMs);
    say(problem ? `warning: ${problem}` : `statement timeout ${config.database.statementTimeoutMs} ms, set by the server behind the pooler`);
  }
  let demoUserId: number | undefined;
  if (config.env !== 'production') {
    // Loaded only here: the seed and its faker stay out of a production server.
    const { DEMO_SEED_OPTIONS, isDatabaseEmpty, seedDatabase } = await import('./cli/seed/seed.js');
    if (await isDatabaseEmpty(database.pool)) {
      say('empty database: seeding demo data');
      const seeded = await seedDatabase(database.pool, DEMO_SEED_OPTIONS);
      say(
        `demo data: ${seeded.users} users, ${seeded.conversations} conversations, ${seeded.messages} messages ` +
          `(${(seeded.durationMs / 1000).toFixed(1)} s; npm run db:seed -- --reset for more)`,
      );
    }
    const { rows } = await database.pool.query<{ id: number }>('SELECT min(id) AS id FROM users');
    demoUserId = rows[0]?.id ?? undefined;
  }
  // Migrated and seeded: other commands may now use the embedded database through this process.
  await database.share();
  return demoUserId;
}
