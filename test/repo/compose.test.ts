// docker-compose.yml as Docker Compose reads it, without a Docker engine:
// valid against the Compose Specification's schema (test/fixtures/compose-spec),
// before and after variable interpolation, and saying what docs/deployment.md promises.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const SECRET = 'compose-test-secret-0123456789abcdef';
const load = (env: Record<string, string | undefined>) => parse(interpolate(source, env)) as ComposeFile;

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

  it('has no top-level name (Compose v1 refuses it) and only the services the API uses', () => {
    const compose = load({ JWT_SECRET: SECRET });
    expect(compose.name).toBeUndefined();
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 'redis']);
    expect(compose.services.api!.environment).toMatchObject({
      DATABASE_URL: 'postgresql://parley:parley@postgres:5432/parley',
      REDIS_URL: 'redis://redis:6379',
    });
  });

  it('publishes host ports on 127.0.0.1, each movable by an environment variable', () => {
    const ports = (compose: ComposeFile) => Object.fromEntries(Object.entries(compose.services).map(([name, service]) => [name, service.ports]));
    expect(ports(load({ JWT_SECRET: SECRET }))).toEqual({
      postgres: ['127.0.0.1:5432:5432'],
      redis: ['127.0.0.1:6379:6379'],
      api: ['127.0.0.1:4000:4000'],
    });
    expect(ports(load({ JWT_SECRET: SECRET, PARLEY_PG_PORT: '15432', PARLEY_REDIS_PORT: '16379', PARLEY_API_PORT: '14000' }))).toEqual({
      postgres: ['127.0.0.1:15432:5432'],
      redis: ['127.0.0.1:16379:6379'],
      api: ['127.0.0.1:14000:4000'],
    });
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
