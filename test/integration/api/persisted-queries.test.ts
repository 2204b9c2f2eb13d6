// Persisted queries: automatic (APQ, sha256) in Redis when there is one,
// shared between instances and failing open; and the allow-list mode, which
// runs the operations of clients/operations/ only, by hash or by text.
import { createHash, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { createRedisClient, type Redis } from '../../../src/db/redis.js';
import { persistedQueryManifest } from '../../../src/generated/graphql/persisted-query-manifest.js';
import * as operations from '../../../src/generated/graphql/operations.js';
import { LeaderboardDocument, UpdateProfileDocument, ViewerDocument } from '../../../src/generated/graphql/operations.js';
import { startTestApi, statementsOf, type RawResponse, type TestApi } from '../../support/api.js';
import { createTestDatabase, testRedisUrl } from '../../support/database.js';
import { insertUser } from '../../support/fixtures.js';
import { captureLog } from '../../support/log.js';
import { startOwnRedis, type OwnRedis } from '../../support/redis-server.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });
const codes = (response: RawResponse) =>
  ((response.json as { errors?: { extensions?: { code?: string } }[] }).errors ?? []).map((error) => error.extensions?.code);
const statements = (response: RawResponse) => statementsOf(response.headers);

describe('automatic persisted queries in the shared Redis', () => {
  let redis: Redis;
  let first: TestApi;
  let second: TestApi;
  const prefix = `parley-test:${randomUUID()}:`;
  beforeAll(async () => {
    redis = createRedisClient({ url: testRedisUrl(), keyPrefix: prefix });
    first = await startTestApi({ PERSISTED_QUERIES_TTL_SECONDS: '600' }, undefined, { redis });
    second = await startTestApi({}, await createTestDatabase(), { redis });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    redis.disconnect();
  });

  it('registers a document on one instance (with its TTL) and runs it by hash alone on another', async () => {
    const query = `{ __typename alias_${randomUUID().replaceAll('-', '')}: __typename }`;
    const hash = sha256(query);
    const unknown = await second.send({ body: { extensions: persisted(hash) } });
    expect(codes(unknown)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);

    const registered = await first.send({ body: { query, extensions: persisted(hash) } });
    expect(registered.status).toBe(200);
    const ttl = await redis.ttl(`parley:apq:${hash}`);
    expect(ttl).toBeGreaterThan(590);
    expect(ttl).toBeLessThanOrEqual(600);

    const byHash = await second.send({ body: { extensions: persisted(hash) } });
    expect(byHash.status).toBe(200);
    expect(byHash.json).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('runs a document over 32 KiB but does not keep it: one request cannot store a megabyte in Redis', async () => {
    const query = `{ __typename } # ${randomUUID()} ${'x'.repeat(40_000)}`;
    const hash = sha256(query);
    const sent = await first.send({ body: { query, extensions: persisted(hash) } });
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ data: { __typename: 'Query' } });
    expect(await redis.exists(`parley:apq:${hash}`)).toBe(0);
    // Its client sends it in full again, as the protocol has it.
    expect(codes(await second.send({ body: { extensions: persisted(hash) } }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});

describe('automatic persisted queries when Redis goes away', () => {
  let own: OwnRedis;
  let redis: Redis;
  let api: TestApi;
  const log = captureLog();
  beforeAll(async () => {
    own = await startOwnRedis();
    redis = createRedisClient({ url: own.url });
    api = await startTestApi({ LOG_LEVEL: 'info' }, undefined, { redis, logStream: log.stream });
  });
  afterAll(async () => {
    await api.close();
    redis.disconnect();
    await own.close();
  });

  it('answers a hash as not found (the client then sends the document), runs documents, and logs the outage once', async () => {
    const query = '{ viewer { id } }';
    const hash = sha256(query);
    expect((await api.send({ body: { query, extensions: persisted(hash) } })).status).toBe(200);
    await own.stop();
    for (let index = 0; index < 3; index += 1) {
      const byHash = await api.send({ body: { extensions: persisted(hash) } });
      expect({ status: byHash.status, codes: codes(byHash) }).toEqual({ status: 200, codes: ['PERSISTED_QUERY_NOT_FOUND'] });
      const withText = await api.send({ body: { query, extensions: persisted(hash) } });
      expect(withText.json).toEqual({ data: { viewer: null }, extensions: expect.anything() });
    }
    expect(log.entries().filter((entry) => /persisted queries unavailable/.test(entry.msg))).toHaveLength(1);
    expect(log.errors()).toEqual([]);
  });
});

describe('PERSISTED_QUERIES=off', () => {
  it('answers a hash with PERSISTED_QUERY_NOT_SUPPORTED (Apollo’s code, HTTP 200) and runs documents', async () => {
    const api = await startTestApi({ PERSISTED_QUERIES: 'off' });
    try {
      const byHash = await api.send({ body: { extensions: persisted(sha256('{ __typename }')) } });
      expect({ status: byHash.status, codes: codes(byHash) }).toEqual({ status: 200, codes: ['PERSISTED_QUERY_NOT_SUPPORTED'] });
      expect((await api.send({ body: { query: '{ __typename }' } })).json).toMatchObject({ data: { __typename: 'Query' } });
    } finally {
      await api.close();
    }
  });
});

describe('the generated manifest', () => {
  it('lists every operation of clients/operations/, each id the sha256 of the text Apollo Client hashes', () => {
    const documents = Object.entries(operations).filter(([name]) => name.endsWith('Document'));
    expect(persistedQueryManifest.operations.map((operation) => operation.name).sort()).toEqual(
      documents.map(([name]) => name.replace(/Document$/, '')).sort(),
    );
    for (const [name, document] of documents) {
      const entry = persistedQueryManifest.operations.find((operation) => `${operation.name}Document` === name)!;
      expect(entry.body).toBe(print(document as typeof ViewerDocument));
      expect(entry.id).toBe(sha256(entry.body));
    }
  });
});

describe('PERSISTED_QUERIES=allowlist', () => {
  let api: TestApi;
  let token: string;
  let userId: number;
  const viewerText = print(ViewerDocument);
  beforeAll(async () => {
    api = await startTestApi({ PERSISTED_QUERIES: 'allowlist' });
    userId = (await insertUser(api.database.pool, 'Listed')).id;
    token = await api.tokenFor(userId);
  });
  afterAll(() => api.close());
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('runs a listed operation by hash alone, without ever having seen its text', async () => {
    const response = await api.send({ headers: auth(), body: { extensions: persisted(sha256(viewerText)) } });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ data: { viewer: { username: expect.any(String) } } });
  });

  it('runs a listed operation by hash over GET', async () => {
    const query = new URLSearchParams({
      extensions: JSON.stringify(persisted(sha256(print(LeaderboardDocument)))),
      variables: JSON.stringify({ metric: 'XP', first: 1 }),
    });
    const response = await api.send({ method: 'GET', path: `/graphql?${query.toString()}`, headers: { 'apollo-require-preflight': 'true' } });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ data: { leaderboard: { edges: expect.any(Array) } } });
  });

  it('runs a listed operation by its text, as generated or laid out otherwise', async () => {
    const asGenerated = await api.send({ headers: auth(), body: { query: viewerText } });
    expect(asGenerated.json).toMatchObject({ data: { viewer: { id: expect.any(String) } } });
    const squeezed = await api.send({ headers: auth(), body: { query: viewerText.replace(/\s+/g, ' ') } });
    expect(squeezed.json).toMatchObject({ data: { viewer: { id: expect.any(String) } } });
    const mutation = await api.send({ headers: auth(), body: { query: print(UpdateProfileDocument), variables: { displayName: 'Listed Again' } } });
    expect(mutation.status).toBe(200);
    const { rows } = await api.database.pool.query<{ display_name: string }>('SELECT display_name FROM users WHERE id = $1', [userId]);
    expect(rows[0]!.display_name).toBe('Listed Again');
  });

  it.each([
    ['a document outside the list', { query: '{ viewer { id } }' }],
    ['a listed operation changed by one field', { query: viewerText.replace('email', 'xp') }],
    ['a hash outside the list', { extensions: persisted(sha256('{ viewer { id } }')) }],
    ['a document registered with its hash (APQ)', { query: '{ viewer { id } }', extensions: persisted(sha256('{ viewer { id } }')) }],
    ['introspection', { query: '{ __schema { types { name } } }' }],
    ['a document that does not parse', { query: '{ viewer {' }],
    ['a hash that is not a string', { extensions: { persistedQuery: { version: 1, sha256Hash: { $ne: null } } } }],
  ])('refuses %s with PERSISTED_QUERY_NOT_IN_LIST (HTTP 400), running nothing', async (_name, body) => {
    const before = await api.database.pool.query<{ count: string }>('SELECT count(*) FROM users');
    const response = await api.send({ headers: auth(), body });
    expect({ status: response.status, codes: codes(response) }).toEqual({ status: 400, codes: ['PERSISTED_QUERY_NOT_IN_LIST'] });
    expect(statements(response)).toBe(0);
    expect((await api.database.pool.query<{ count: string }>('SELECT count(*) FROM users')).rows).toEqual(before.rows);
  });

  it('refuses an unlisted document over GET too', async () => {
    const response = await api.send({
      method: 'GET',
      path: `/graphql?${new URLSearchParams({ query: '{ __typename }' }).toString()}`,
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect({ status: response.status, codes: codes(response) }).toEqual({ status: 400, codes: ['PERSISTED_QUERY_NOT_IN_LIST'] });
  });
});
