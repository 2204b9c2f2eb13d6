// docker-compose.yml as Docker Compose reads it, without a Docker engine:
// valid against the Compose Specification's schema (test/fixtures/compose-spec),
// before and after variable interpolation, and saying what docs/deployment.md
// promises, the scale profile included: its services, how they are wired,
// their health checks, and the files they mount (PgBouncer's settings, the
// load balancer's routes, the replica's start), read as their programs would.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const source = readFileSync('docker-compose.yml', 'utf8');
const schema = JSON.parse(readFileSync('test/fixtures/compose-spec/compose-spec.json', 'utf8')) as Record<string, unknown>;
// The schema names the draft-07 meta-schema by an https address Ajv does not know by that name.
delete schema.$schema;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

/**
 * Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?error}, ${VAR?error}, and $$ for a dollar sign.
 */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\$|\$\{(\w+)(?:(:?)([-?])((?:[^}])*))?\}/g, (match, name: string | undefined, colon: string, operator: string, argument: string) => {
    if (match === '$$') return '$';
    const value = env[name!];
    const unset = colon ? value === undefined || value === '' : value === undefined;
    if (!operator) return value ?? '';
    if (!unset) return value!;
    if (operator === '-') return argument;
    throw new Error(`required variable ${name} is missing a value: ${argument}`);
  });
}

interface Service {
  image?: string;
  build?: string;
  command?: string | string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  healthcheck?: { test: string[] };
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const SECRET = 'compose-test-secret-0123456789abcdef';
const load = (env: Record<string, string | undefined>) => parse(interpolate(source, env)) as ComposeFile;
/** The services `docker compose up` starts: those in no profile. */
const defaultServices = (compose: ComposeFile) => Object.fromEntries(Object.entries(compose.services).filter(([, service]) => !service.profiles));

describe('docker-compose.yml', () => {
  it('is valid Compose, as written and with its variables filled in', () => {
    for (const document of [parse(source), load({}), load({ JWT_SECRET: SECRET, PARLEY_PG_PORT: '5433' })]) {
      const valid = validate(document);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    }
    // The check itself bites: a misspelt key is an error.
    const broken = load({ JWT_SECRET: SECRET });
    (broken.services.redis as Record<string, unknown>).healthcheck_ = {};
    expect(validate(broken)).toBe(false);
  });

  it('has no top-level name (Compose v1 refuses it) and, outside the scale profile, only the services the API uses', () => {
    const compose = load({ JWT_SECRET: SECRET });
    expect(compose.name).toBeUndefined();
    expect(Object.keys(defaultServices(compose)).sort()).toEqual(['api', 'postgres', 'redis']);
    expect(compose.services.api!.environment).toMatchObject({
      DATABASE_URL: 'postgresql://parley:parley@postgres:5432/parley',
      REDIS_URL: 'redis://redis:6379',
    });
  });

  it('publishes host ports on 127.0.0.1, each movable by an environment variable', () => {
    const ports = (compose: ComposeFile) =>
      Object.fromEntries(Object.entries(compose.services).flatMap(([name, service]) => (service.ports ? [[name, service.ports]] : [])));
    expect(ports(load({ JWT_SECRET: SECRET }))).toEqual({
      postgres: ['127.0.0.1:5432:5432'],
      redis: ['127.0.0.1:6379:6379'],
      api: ['127.0.0.1:4000:4000'],
      'scale-lb': ['127.0.0.1:4080:8080'],
    });
    expect(ports(load({ JWT_SECRET: SECRET, PARLEY_PG_PORT: '15432', PARLEY_REDIS_PORT: '16379', PARLEY_API_PORT: '14000', PARLEY_LB_PORT: '14080' }))).toEqual(
      {
        postgres: ['127.0.0.1:15432:5432'],
        redis: ['127.0.0.1:16379:6379'],
        api: ['127.0.0.1:14000:4000'],
        'scale-lb': ['127.0.0.1:14080:8080'],
      },
    );
  });

  it('passes JWT_SECRET in when it is set, and otherwise keeps the secret the API makes in a volume', () => {
    expect(load({ JWT_SECRET: SECRET }).services.api!.environment!.JWT_SECRET).toBe(SECRET);
    const api = load({}).services.api!;
    // Empty (YAML reads it as null) counts as unset: the API makes a secret in
    // .data on first start, and it lasts with the volume.
    expect(api.environment!.JWT_SECRET ?? '').toBe('');
    expect(api.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^[\w-]+:\/app\/\.data$/)]));
  });

  it('preloads pg_stat_statements and creates its extension from an init script', () => {
    const postgres = load({ JWT_SECRET: SECRET }).services.postgres!;
    expect(String(postgres.command)).toMatch(/shared_preload_libraries=pg_stat_statements/);
    const mount = postgres.volumes!.find((volume) => volume.split(':')[1] === '/docker-entrypoint-initdb.d');
    expect(mount).toBeDefined();
    const folder = mount!.split(':')[0]!;
    const scripts = readdirSync(folder).filter((file) => file.endsWith('.sql'));
    expect(scripts.map((file) => readFileSync(path.join(folder, file), 'utf8')).join('\n')).toMatch(/^CREATE EXTENSION IF NOT EXISTS pg_stat_statements;$/m);
  });

  it('builds the API from this folder’s Dockerfile', () => {
    const api = load({ JWT_SECRET: SECRET }).services.api!;
    expect(api.build).toBe('.');
    expect(existsSync('Dockerfile')).toBe(true);
    expect(api.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });
});

/** The host file a service mounts at `target` (a bind mount, `./path:target[:ro]`), checked to exist. */
function mounted(service: Service, target: string): string {
  const volume = service.volumes?.find((entry) => entry.split(':')[1] === target);
  expect({ target, mounted: volume !== undefined }).toEqual({ target, mounted: true });
  const file = volume!.split(':')[0]!;
  expect({ file, exists: existsSync(file) }).toEqual({ file, exists: true });
  return file;
}

/** An ini file as PgBouncer reads it: sections of `name = value`, `;` comments. */
function readIni(file: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8')
    .split('\n')
    .map((text) => text.trim())) {
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const heading = /^\[(\w+)\]$/.exec(line);
    if (heading) sections[heading[1]!] = section = {};
    else {
      const [name, ...value] = line.split('=');
      section[name!.trim()] = value.join('=').trim();
    }
  }
  return sections;
}

/** The body of each `<keyword> <name> { … }` block of an nginx configuration, by keyword and name (nested blocks inside it included). */
function nginxBlocks(text: string, keyword: string): Record<string, string> {
  const blocks: Record<string, string> = {};
  const opening = new RegExp(`^\\s*${keyword}\\s+([^{\\s]+(?:\\s+[^{\\s]+)*)\\s*\\{`, 'gm');
  for (const match of text.matchAll(opening)) {
    let depth = 1;
    let end = match.index + match[0].length;
    while (depth > 0 && end < text.length) {
      if (text[end] === '{') depth += 1;
      if (text[end] === '}') depth -= 1;
      end += 1;
    }
    blocks[match[1]!] = text.slice(match.index + match[0].length, end - 1).replace(/#.*$/gm, '');
  }
  return blocks;
}

describe('the scale profile', () => {
  const compose = load({ JWT_SECRET: SECRET });
  const scale = Object.fromEntries(Object.entries(compose.services).filter(([, service]) => service.profiles?.includes('scale')));
  const service = (name: string) => scale[name]!;
  const api = service('scale-api-1');
  const env = api.environment!;
  const pgbouncer = readIni(mounted(service('scale-pgbouncer'), '/etc/pgbouncer/pgbouncer.ini'));

  it('is a primary, its streaming replica, PgBouncer, Redis, two API instances and a load balancer, a stack of its own that docker compose up leaves alone', () => {
    expect(Object.keys(scale).sort()).toEqual(['scale-api-1', 'scale-api-2', 'scale-lb', 'scale-pgbouncer', 'scale-primary', 'scale-redis', 'scale-replica']);
    for (const [name, { profiles }] of Object.entries(scale)) expect({ name, profiles }).toEqual({ name, profiles: ['scale'] });
    // Nothing of the development stack: its database, Redis (cache, events) and API are another cluster's.
    const needs = Object.values(scale).flatMap((entry) => Object.keys(entry.depends_on ?? {}));
    expect(needs.filter((name) => !(name in scale))).toEqual([]);
    for (const url of [env.DATABASE_URL, env.DATABASE_DIRECT_URL, env.DATABASE_REPLICA_URLS, env.REDIS_URL]) {
      expect(Object.keys(scale)).toContain(new URL(url!).hostname);
    }
    // Two instances of the same API, built from this folder.
    expect(service('scale-api-2')).toEqual(api);
    expect(api.build).toBe('.');
  });

  it('wires both instances through PgBouncer to the primary, migrations straight to the primary, reads to the replica, one Redis, one secret', () => {
    const primary = service('scale-primary').environment!;
    const credentials = `${primary.POSTGRES_USER}:${primary.POSTGRES_PASSWORD}`;
    const url = (value: string) => {
      const parsed = new URL(value);
      return { user: `${parsed.username}:${parsed.password}`, host: parsed.hostname, port: parsed.port, database: parsed.pathname.slice(1) };
    };
    const database = primary.POSTGRES_DB;
    expect(url(env.DATABASE_URL!)).toEqual({ user: credentials, host: 'scale-pgbouncer', port: pgbouncer.pgbouncer!.listen_port, database });
    expect(url(env.DATABASE_DIRECT_URL!)).toEqual({ user: credentials, host: 'scale-primary', port: '5432', database });
    expect(url(env.DATABASE_REPLICA_URLS!)).toEqual({ user: credentials, host: 'scale-replica', port: '5432', database });
    expect(env.REDIS_URL).toBe('redis://scale-redis:6379');
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', JWT_SECRET: SECRET });
    // PgBouncer knows that database and user.
    expect(pgbouncer.databases![database!]).toBeDefined();
    const userlist = readFileSync(mounted(service('scale-pgbouncer'), pgbouncer.pgbouncer!.auth_file!), 'utf8');
    expect(userlist).toContain(`"${primary.POSTGRES_USER}" "${primary.POSTGRES_PASSWORD}"`);

    // Parley takes the environment as it is; in production, not without a shared secret.
    const config = loadConfig(env);
    expect(config).toMatchObject({
      env: 'production',
      redisUrl: env.REDIS_URL,
      database: { url: env.DATABASE_URL, replicas: { urls: [env.DATABASE_REPLICA_URLS] } },
    });
    expect(() => loadConfig(load({}).services['scale-api-1']!.environment)).toThrow(/JWT_SECRET/);
  });

  it('starts each service once what it needs is healthy, and each says when it is', () => {
    for (const [name, entry] of Object.entries(scale)) expect({ name, healthcheck: entry.healthcheck?.test.length ?? 0 }).not.toEqual({ name, healthcheck: 0 });
    const healthy = { condition: 'service_healthy' };
    expect(service('scale-replica').depends_on).toEqual({ 'scale-primary': healthy });
    expect(service('scale-pgbouncer').depends_on).toEqual({ 'scale-primary': healthy });
    expect(api.depends_on).toEqual({ 'scale-primary': healthy, 'scale-replica': healthy, 'scale-pgbouncer': healthy, 'scale-redis': healthy });
    expect(service('scale-lb').depends_on).toEqual({ 'scale-api-1': healthy, 'scale-api-2': healthy });
    // An instance is healthy once it is ready (migrated, database reached) on the port it listens on; the balancer once it reaches one.
    expect(api.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${env.PORT}/ready`);
    expect(service('scale-lb').healthcheck!.test.join(' ')).toMatch(/http:\/\/127\.0\.0\.1:8080\/ready/);
    // The replica is healthy only as a standby.
    expect(service('scale-replica').healthcheck!.test.join(' ')).toContain('pg_is_in_recovery()');
  });

  it('runs PgBouncer in transaction mode in front of the primary, built from Debian’s package as the tests run it', () => {
    expect(pgbouncer.pgbouncer).toMatchObject({ pool_mode: 'transaction', auth_type: 'scram-sha-256' });
    expect(pgbouncer.databases!.parley).toBe('host=scale-primary port=5432 dbname=parley');
    // Parley's statement_timeout startup parameter would be refused: ignored, and the role carries the bound instead.
    expect(pgbouncer.pgbouncer!.ignore_startup_parameters).toContain('statement_timeout');
    const roleSettings = readFileSync(mounted(service('scale-primary'), '/docker-entrypoint-initdb.d/03-role-settings.sql'), 'utf8');
    expect(roleSettings).toMatch(/^ALTER ROLE CURRENT_USER SET statement_timeout = '\d+s';$/m);
    const dockerfile = readFileSync(path.join(String(service('scale-pgbouncer').build), 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM debian:\S+$/m);
    expect(dockerfile).toMatch(/apt-get install .*\bpgbouncer\b/);
    expect(dockerfile).toContain('CMD ["/usr/sbin/pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]');
  });

  it('balances /graphql over both instances, WebSocket upgrades and multipart streams passed through', () => {
    const lb = service('scale-lb');
    expect(lb.image).toMatch(/^nginx:/);
    const config = readFileSync(mounted(lb, '/etc/nginx/conf.d/default.conf'), 'utf8');
    const [upstream, members] = Object.entries(nginxBlocks(config, 'upstream'))[0]!;
    expect([...members.matchAll(/^\s*server\s+(\S+)/gm)].map((match) => match[1]).sort()).toEqual([`scale-api-1:${env.PORT}`, `scale-api-2:${env.PORT}`]);
    const graphql = nginxBlocks(config, 'location')['/graphql']!;
    const directives: Record<string, string> = Object.fromEntries([...graphql.matchAll(/^\s*(\w+)\s+([^;]+);/gm)].map((match) => [match[1]!, match[2]!]));
    expect(directives).toMatchObject({ proxy_pass: `http://${upstream}`, proxy_http_version: '1.1', proxy_buffering: 'off' });
    expect(graphql).toMatch(/proxy_set_header\s+Upgrade\s+\$http_upgrade;/);
    expect(graphql).toMatch(/proxy_set_header\s+Connection\s+\$connection_upgrade;/);
    // The map that makes it: "upgrade" when the client asks for one.
    expect(nginxBlocks(config, 'map')['$http_upgrade $connection_upgrade']).toMatch(/default\s+upgrade;/);
    // Quiet sockets and streams are not cut between keep-alives (15 s pings, 5 s heartbeats).
    expect(Number(/^(\d+)h$/.exec(directives.proxy_read_timeout ?? '')?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    expect(lb.ports).toEqual(['127.0.0.1:4080:8080']);
    expect(config).toMatch(/^\s*listen 8080;$/m);
  });

  it('makes the replica a base backup of the primary, streaming, which the primary lets in', () => {
    const replica = service('scale-replica');
    const start = mounted(replica, replica.entrypoint!.at(-1)!);
    execFileSync('bash', ['-n', start]);
    const script = readFileSync(start, 'utf8');
    expect(script).toMatch(/pg_basebackup [^\n]*--write-recovery-conf[^\n]*--wal-method=stream/);
    expect(script).toContain('--host=scale-primary --port=5432');
    expect(script).toMatch(/^exec gosu postgres postgres -c hot_standby=on/m);
    expect(replica.environment).toMatchObject({ POSTGRES_USER: 'parley', PGPASSWORD: service('scale-primary').environment!.POSTGRES_PASSWORD });
    expect(String(service('scale-primary').command)).toMatch(/-c wal_level=replica\b.*-c max_wal_senders=\d+/s);
    const replication = mounted(service('scale-primary'), '/docker-entrypoint-initdb.d/02-replication.sh');
    execFileSync('bash', ['-n', replication]);
    expect(readFileSync(replication, 'utf8')).toMatch(/^echo "host replication \$\{POSTGRES_USER\} all scram-sha-256" >> "\$\{PGDATA\}\/pg_hba\.conf"$/m);
    // And the pg_stat_statements extension, as in the development stack.
    expect(mounted(service('scale-primary'), '/docker-entrypoint-initdb.d/01-pg-stat-statements.sql')).toBe('./docker/postgres-init/01-pg-stat-statements.sql');
  });
});
