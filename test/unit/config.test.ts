import { ConfigError, defaultPoolSize, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('runs on the embedded database with defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.http.port).toBe(4000);
    expect(config.database.poolMax).toBe(defaultPoolSize());
    expect(config.database.statementTimeoutMs).toBeGreaterThan(0);
    expect(config.dataloaderBatch).toBe(true);
    expect(config.responseCache).toBe(true);
    expect(config.graphqlJit).toBe(true);
  });

  it('has safe defaults: loopback only, no secret of its own (one is kept in the data directory), the query limits', () => {
    const config = loadConfig({});
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.auth).toMatchObject({ jwtSecret: undefined, secretFile: '.data/jwt-secret' });
    expect(config.queryLimits).toEqual({ maxCost: 50_000, maxDepth: 15, maxNodes: 1_000, maxAliases: 30, maxRootFields: 20 });
  });

  it('has rate limits on by default: 200,000 points and 60 writes a minute per caller', () => {
    expect(loadConfig({}).rateLimit).toEqual({ enabled: true, points: 200_000, writes: 60, windowSeconds: 60 });
    expect(loadConfig({ RATE_LIMIT: 'off', RATE_LIMIT_WRITES: '5' }).rateLimit).toMatchObject({ enabled: false, writes: 5 });
    expect(() => loadConfig({ RATE_LIMIT: 'yes', RATE_LIMIT_POINTS: '0' })).toThrow(
      /RATE_LIMIT: expected on or off[\s\S]*RATE_LIMIT_POINTS: expected a whole number ≥ 1/,
    );
  });

  it('keeps loader results across requests by default where there is Redis to check them against, in 64 MiB', () => {
    expect(loadConfig({}).loaderCache).toEqual({ enabled: false, maxBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).loaderCache).toEqual({ enabled: true, maxBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', LOADER_CACHE: 'off' }).loaderCache.enabled).toBe(false);
    expect(loadConfig({ LOADER_CACHE: 'on', LOADER_CACHE_MAX_MB: '8' }).loaderCache).toEqual({ enabled: true, maxBytes: 8 * 1024 * 1024 });
    expect(() => loadConfig({ LOADER_CACHE: 'yes', LOADER_CACHE_MAX_MB: '0' })).toThrow(
      /LOADER_CACHE: expected on or off[\s\S]*LOADER_CACHE_MAX_MB: expected a whole number ≥ 1/,
    );
  });

  it('serves automatic persisted queries by default, kept a day; allowlist on request', () => {
    expect(loadConfig({}).persistedQueries).toEqual({ mode: 'apq', ttlSeconds: 86_400 });
    expect(loadConfig({ PERSISTED_QUERIES: 'allowlist' }).persistedQueries.mode).toBe('allowlist');
    expect(() => loadConfig({ PERSISTED_QUERIES: 'list' })).toThrow(/PERSISTED_QUERIES: expected off, apq or allowlist/);
  });

  it('reads the query limits', () => {
    const config = loadConfig({ MAX_QUERY_COST: '10', MAX_QUERY_DEPTH: '5', MAX_QUERY_NODES: '100', MAX_QUERY_ALIASES: '0', MAX_QUERY_ROOT_FIELDS: '2' });
    expect(config.queryLimits).toEqual({ maxCost: 10, maxDepth: 5, maxNodes: 100, maxAliases: 0, maxRootFields: 2 });
    expect(() => loadConfig({ MAX_QUERY_DEPTH: '0', MAX_QUERY_ALIASES: '-1' })).toThrow(
      /MAX_QUERY_DEPTH: expected a whole number ≥ 1[\s\S]*MAX_QUERY_ALIASES: expected a whole number ≥ 0/,
    );
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://parley:secret@db:5432/parley',
      REDIS_URL: 'redis://cache:6379',
      PORT: '8080',
      DATABASE_POOL_MAX: '7',
      JWT_SECRET: 'x'.repeat(32),
      JWT_SECRET_FILE: '/var/lib/parley/jwt-secret',
      HOST: '0.0.0.0',
      DATALOADER_BATCH: 'false',
      GRAPHQL_JIT: 'false',
      LOG_LEVEL: 'warn',
      RESPONSE_CACHE: 'off',
    });
    expect(config).toMatchObject({
      database: { url: 'postgresql://parley:secret@db:5432/parley', poolMax: 7 },
      redisUrl: 'redis://cache:6379',
      http: { port: 8080, host: '0.0.0.0' },
      auth: { jwtSecret: 'x'.repeat(32), secretFile: '/var/lib/parley/jwt-secret' },
      dataloaderBatch: false,
      graphqlJit: false,
      logLevel: 'warn',
      responseCache: false,
    });
  });

  it('reads read replicas: none by default, a comma-separated list of URLs that needs DATABASE_URL, never echoed', () => {
    expect(loadConfig({}).database.replicas).toEqual({ urls: [], maxLagMs: 1_000, pollIntervalMs: 100 });
    const config = loadConfig({
      DATABASE_URL: 'postgresql://db:5432/parley',
      DATABASE_REPLICA_URLS: 'postgresql://replica-1:5432/parley, postgres://replica-2/parley',
      DATABASE_REPLICA_MAX_LAG_MS: '250',
      DATABASE_REPLICA_POLL_MS: '50',
    });
    expect(config.database.replicas).toEqual({
      urls: ['postgresql://replica-1:5432/parley', 'postgres://replica-2/parley'],
      maxLagMs: 250,
      pollIntervalMs: 50,
    });
    expect(() => loadConfig({ DATABASE_REPLICA_URLS: 'postgresql://replica:5432/parley' })).toThrow(
      new ConfigError([
        'DATABASE_REPLICA_URLS: replicas stream from the primary at DATABASE_URL: set DATABASE_URL too (the embedded database has no replicas)',
      ]),
    );
    // A URL may hold a password: the message says which one is wrong, never what it is.
    expect(() => loadConfig({ DATABASE_URL: 'postgresql://db/parley', DATABASE_REPLICA_URLS: 'postgresql://ok/parley,mysql://u:secret@x/parley' })).toThrow(
      new ConfigError(['DATABASE_REPLICA_URLS: expected postgresql:// URLs separated by commas (URL 2 of 2 is not one)']),
    );
    expect(() => loadConfig({ DATABASE_REPLICA_POLL_MS: '0' })).toThrow(/DATABASE_REPLICA_POLL_MS: expected a whole number ≥ 10/);
  });

  it('takes DATABASE_DIRECT_URL as the database itself behind a pooler, DATABASE_URL when unset, and only with DATABASE_URL', () => {
    const direct = 'postgresql://parley@db:5432/parley';
    const pooler = 'postgresql://parley@pgbouncer:6432/parley';
    expect(loadConfig({ DATABASE_URL: direct }).database).toMatchObject({ url: direct, directUrl: direct });
    expect(loadConfig({ DATABASE_URL: pooler, DATABASE_DIRECT_URL: direct }).database).toMatchObject({ url: pooler, directUrl: direct });
    expect(loadConfig({}).database.directUrl).toBeUndefined();
    expect(() => loadConfig({ DATABASE_DIRECT_URL: direct })).toThrow('DATABASE_DIRECT_URL: set DATABASE_URL too (the pooler)');
    expect(() => loadConfig({ DATABASE_URL: pooler, DATABASE_DIRECT_URL: 'db:5432' })).toThrow(
      'DATABASE_DIRECT_URL: expected a postgresql:// or postgres:// URL',
    );
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.url).toBeUndefined();
  });

  it('reports every bad variable at once, naming it, what it expects and what it got', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://db/parley', DATABASE_POOL_MAX: '0', DATALOADER_BATCH: 'maybe', RESPONSE_CACHE: 'yes' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems).toEqual(
      expect.arrayContaining([
        'PORT: expected a whole number (got "eighty")',
        'DATABASE_URL: expected a postgresql:// or postgres:// URL',
        'DATABASE_POOL_MAX: expected a whole number ≥ 1 (got "0")',
        'DATALOADER_BATCH: expected true or false (got "maybe")',
        'RESPONSE_CACHE: expected on or off (got "yes")',
      ]),
    );
  });

  it('refreshes the statistics every 5 minutes unless told otherwise; 0 turns it off', () => {
    expect(loadConfig({}).statsRefresh).toEqual({ intervalSeconds: 300, statementTimeoutMs: 120_000 });
    expect(loadConfig({ STATS_REFRESH_INTERVAL_SECONDS: '0', STATS_REFRESH_STATEMENT_TIMEOUT_MS: '5000' }).statsRefresh).toEqual({
      intervalSeconds: 0,
      statementTimeoutMs: 5_000,
    });
    expect(() => loadConfig({ STATS_REFRESH_INTERVAL_SECONDS: '-1', STATS_REFRESH_STATEMENT_TIMEOUT_MS: '0' })).toThrow(
      new ConfigError([
        'STATS_REFRESH_INTERVAL_SECONDS: expected a whole number ≥ 0 (got "-1")',
        'STATS_REFRESH_STATEMENT_TIMEOUT_MS: expected a whole number ≥ 100 (got "0")',
      ]),
    );
  });

  it('logs statements slower than 100 ms and operations slower than 500 ms; 0 turns either off', () => {
    expect(loadConfig({}).slowLog).toEqual({ statementMs: 100, operationMs: 500 });
    expect(loadConfig({ SLOW_STATEMENT_MS: '0', SLOW_OPERATION_MS: '2000' }).slowLog).toEqual({ statementMs: 0, operationMs: 2_000 });
    expect(() => loadConfig({ SLOW_STATEMENT_MS: '-5', SLOW_OPERATION_MS: 'slow' })).toThrow(
      new ConfigError(['SLOW_STATEMENT_MS: expected a whole number ≥ 0 (got "-5")', 'SLOW_OPERATION_MS: expected a whole number (got "slow")']),
    );
  });

  describe('metrics', () => {
    const secret = { NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };
    const token = 'metrics-token-0123456789';

    it('serves /metrics to anyone outside production, and to nobody in production unless told', () => {
      expect(loadConfig({}).metrics).toEqual({ mode: 'public', token: undefined });
      expect(loadConfig({ NODE_ENV: 'test' }).metrics.mode).toBe('public');
      expect(loadConfig(secret).metrics).toEqual({ mode: 'off', token: undefined });
      expect(loadConfig({ METRICS: 'off' }).metrics.mode).toBe('off');
    });

    it('asks for the token once one is set, in production or not', () => {
      expect(loadConfig({ ...secret, METRICS_TOKEN: token }).metrics).toEqual({ mode: 'token', token });
      expect(loadConfig({ METRICS_TOKEN: token }).metrics).toEqual({ mode: 'token', token });
      expect(loadConfig({ ...secret, METRICS: 'token', METRICS_TOKEN: token }).metrics).toEqual({ mode: 'token', token });
    });

    it('refuses /metrics open to anyone in production, a token that is missing, short or would be ignored, never echoing it', () => {
      expect(() => loadConfig({ ...secret, METRICS: 'public' })).toThrow(/METRICS: expected off or token when NODE_ENV=production/);
      expect(() => loadConfig({ METRICS: 'token' })).toThrow(/METRICS_TOKEN: required when METRICS=token/);
      expect(() => loadConfig({ METRICS: 'public', METRICS_TOKEN: token })).toThrow(/METRICS: public serves \/metrics to anyone/);
      expect(() => loadConfig({ METRICS: 'everyone' })).toThrow(/METRICS: expected off, public or token \(got "everyone"\)/);
      expect(() => loadConfig({ METRICS_TOKEN: 'short-token' })).toThrow(new ConfigError(['METRICS_TOKEN: expected at least 16 characters']));
    });
  });

  it('requires a real JWT secret in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET: required when NODE_ENV=production/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: expected at least 32 characters$/);
  });
});
