// What the HTTP server guarantees around GraphQL: request ids, CSRF
// prevention, the Sandbox landing page, health checks, error masking.
import { Writable } from 'node:stream';
import { startTestApi, type TestApi } from '../../support/api.js';
import { insertUser } from '../../support/fixtures.js';

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

describe('the HTTP server', () => {
  it('gives every response a request id, keeping the caller’s', async () => {
    const generated = await api.request('{ __typename }');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await api.request('{ __typename }', {}, { headers: { 'x-request-id': 'trace-abc-123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc-123');
  });

  it('refuses requests a browser could send cross-site (CSRF prevention)', async () => {
    const simplePost = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(simplePost.status).toBe(400);
    const simpleGet = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ __typename }')}`);
    expect(simpleGet.status).toBe(400);
    const withPreflightHeader = await fetch(`${api.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(withPreflightHeader.status).toBe(200);
  });

  it('serves Apollo Sandbox to browsers outside production', async () => {
    const response = await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('answers health and readiness checks', async () => {
    expect(await (await fetch(`${api.url}/health`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${api.url}/ready`)).json()).toMatchObject({ status: 'ready' });
  });

  it('reports the request’s SQL statements outside production', async () => {
    const user = await insertUser(api.database.pool, 'Header');
    const result = await api.request('{ __typename }');
    expect(result.statements).toBe(0);
    const viewer = await api.request('{ viewer { id } }', {}, { token: await api.tokenFor(user.id) });
    expect(viewer.statements).toBe(1);
  });

  it('answers malformed documents with their own codes, without stack traces', async () => {
    const parse = await api.request('{ viewer { id ');
    expect(parse.status).toBe(400);
    expect(parse.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const validation = await api.request('{ viewer { nope } }');
    expect(validation.status).toBe(400);
    expect(validation.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(validation.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
    const variables = await api.request('query ($id: ID!) { user(id: $id) { id } }', { id: 5 as unknown as string }, {});
    expect(variables.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('in production', () => {
  /** A production server on the shared test database whose log lines are kept. */
  async function productionApi(logLevel: string) {
    const log: { msg: string; level: number }[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        log.push(JSON.parse(String(chunk)) as { msg: string; level: number });
        done();
      },
    });
    const server = await startTestApi({ NODE_ENV: 'production', LOG_LEVEL: logLevel }, { ...api.database, close: async () => {} }, { logStream });
    return { server, log };
  }

  it('writes one line per GraphQL request at info level, none of Fastify’s, and tells no statement count (no x-sql-statements)', async () => {
    const user = await insertUser(api.database.pool, 'Quiet');
    const { server, log } = await productionApi('info');
    try {
      const result = await server.request('{ viewer { id } }', {}, { token: await server.tokenFor(user.id) });
      expect(result.errors).toBeUndefined();
      expect(result.headers.get('x-request-id')).toBeTruthy();
      expect(result.headers.get('x-sql-statements')).toBeNull();
      expect(log.map((entry) => entry.msg)).not.toContain('request completed');
      expect(log.map((entry) => entry.msg)).not.toContain('incoming request');
      expect(log.filter((entry) => entry.msg === 'GraphQL request')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('logs each request at debug level, for an operator who asks', async () => {
    const { server, log } = await productionApi('debug');
    try {
      await server.request('{ __typename }');
      expect(log.map((entry) => entry.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    } finally {
      await server.close();
    }
  });
});

describe('an unexpected failure', () => {
  it('is masked as INTERNAL_SERVER_ERROR: no SQL, no internal message, no stack', async () => {
    const log: string[] = [];
    const logStream = new Writable({
      write(chunk, _encoding, done) {
        log.push(String(chunk));
        done();
      },
    });
    const broken = await startTestApi({ LOG_LEVEL: 'error' }, undefined, { logStream });
    const user = await insertUser(broken.database.pool, 'Broken');
    const token = await broken.tokenFor(user.id);
    // The schema changes under the server: its SQL now fails.
    await broken.database.pool.query(`ALTER TABLE users RENAME COLUMN display_name TO display_name_gone`);
    const result = await broken.request('{ viewer { id displayName } }', {}, { token });
    await broken.close();
    expect(result.status).toBe(200);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]).toEqual({
      message: 'Internal server error',
      locations: [{ line: 1, column: 3 }],
      path: ['viewer'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(result.data).toEqual({ viewer: null });
    // The log has what the client does not, under the request id the client got.
    const entries = log.map((line) => JSON.parse(line) as { reqId?: string; msg: string; path?: string; err?: { message: string } });
    const entry = entries.find((candidate) => candidate.msg === 'unexpected error in a GraphQL operation');
    expect(entry?.reqId).toBe(result.headers.get('x-request-id'));
    expect(entry?.path).toBe('viewer');
    expect(entry?.err?.message).toMatch(/display_name/);
  });
});
