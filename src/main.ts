// The composition root: reads the configuration, opens the database (the
// server at DATABASE_URL or the embedded one), migrates it, seeds demo data
// into an empty development database, and serves /graphql until SIGTERM.
import { loadConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate, readMigrations } from './db/migrate.js';
import { describeDatabaseError } from './db/unavailable.js';
import { createPrisma } from './db/prisma.js';
import { createRedisClient } from './db/redis.js';
import { DEMO_SEED_OPTIONS, isDatabaseEmpty, seedDatabase } from './db/seed/seed.js';
import { instrumentPool } from './db/statement-counter.js';
import { createAuth } from './graphql/auth.js';
import { tokenSecret } from './graphql/token-secret.js';
import { DEFAULT_EXPLORER_PATH } from './http/explorer.js';
import { buildSchema } from './http/schema.js';
import { createServer } from './http/server.js';
import { CliError, runCli } from './cli/run-cli.js';

await runCli(async () => {
  const config = loadConfig();
  const schema = buildSchema();
  const say = (line: string) => console.log(`parley: ${line}`);
  // A connection the server closes while it idles (a restart, a failover,
  // pg_terminate_backend) is discarded by the pool and reported here: on
  // stderr until the server's logger exists, then as a warning in the log.
  let reportLostConnection = (error: Error) => console.warn(`parley: an idle database connection was lost: ${error.message}`);
  const database = await openDatabase(config, { applicationName: 'parley-api', onError: (error) => reportLostConnection(error) });
  instrumentPool(database.pool);
  say(database.embedded ? `embedded PostgreSQL (PGlite) in ${config.embedded.dataDir}` : 'PostgreSQL at DATABASE_URL');

  // Read once: /ready compares the database with this build's migrations on every probe.
  const migrationFiles = await readMigrations();
  const migrations = await migrate(database.pool, { log: (line) => say(line) });
  if (migrations.applied.length > 0) say(`applied ${migrations.applied.length} migrations`);
  let demoUserId: number | undefined;
  if (config.env !== 'production') {
    if (await isDatabaseEmpty(database.pool)) {
      say('empty database: seeding demo data');
      await seedDatabase(database.pool, DEMO_SEED_OPTIONS);
    }
    const { rows } = await database.pool.query<{ id: number }>('SELECT min(id) AS id FROM users');
    demoUserId = rows[0]?.id ?? undefined;
  }

  const prisma = createPrisma(database.pool);
  const auth = createAuth({ secret: await tokenSecret(config.auth), ttlSeconds: config.auth.tokenTtlSeconds });
  // Made once, shared by everything that uses Redis. Requests never wait for
  // it to connect: rate limits and persisted queries fail open meanwhile.
  const redis = config.redisUrl ? createRedisClient({ url: config.redisUrl }) : undefined;
  const { fastify, apollo } = await createServer({
    config,
    schema,
    db: { pool: database.pool, prisma },
    auth,
    migrations: migrationFiles.map(({ name, checksum }) => ({ name, checksum })),
    redis,
    checkRedis: redis ? () => redis.ping() : undefined,
  });
  if (!config.rateLimit.enabled) say('rate limits off (RATE_LIMIT=off)');
  else say(redis ? 'rate limits counted in Redis at REDIS_URL' : 'rate limits counted in this process (set REDIS_URL to share them between instances)');
  reportLostConnection = (error) =>
    fastify.log.warn(
      { reason: describeDatabaseError(error), idleConnectionsLost: database.poolErrors.idleConnectionsLost },
      'idle database connection lost; the pool discarded it',
    );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: draining requests and closing`);
    // Apollo's drain plugin closes Fastify: no new connections, requests in
    // flight finish (cut after 10 s); then the pool and the embedded database close.
    await apollo.stop();
    await redis?.quit().catch(() => redis.disconnect());
    await prisma.$disconnect();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await fastify.listen({ host: config.http.host, port: config.http.port }).catch(async (error: NodeJS.ErrnoException) => {
    redis?.disconnect();
    await database.close();
    if (error.code === 'EADDRINUSE') throw new CliError(`Port ${config.http.port} is in use: stop what listens there, or set PORT to another port.`);
    throw error;
  });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  // The address it listens on, so a developer sees whether it is reachable from elsewhere (HOST).
  const host = typeof address === 'object' && address ? (address.family === 'IPv6' ? `[${address.address}]` : address.address) : config.http.host;
  say(`GraphQL at http://${host}:${port}/graphql`);
  if (config.env !== 'production') say(`explorer (works offline) at http://${host}:${port}${DEFAULT_EXPLORER_PATH}`);
  if (demoUserId !== undefined) {
    say(`demo token for user ${demoUserId} (send as Authorization: Bearer <token>):`);
    console.log(await auth.issueToken(demoUserId));
  }
  if (!config.auth.jwtSecret) say(`JWT_SECRET is unset: tokens are signed with the secret kept in ${config.auth.secretFile}`);
});
