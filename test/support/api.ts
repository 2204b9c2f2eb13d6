// Internal: a Parley server over a fresh test database, listening on a free
// local port and driven over HTTP, as clients drive it.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/app/create-app.js';
import type { PrismaClient } from '../../src/db/prisma.js';
import type { Clock } from '../../src/db/clock.js';
import type { Redis } from '../../src/db/redis.js';
import { openReplicaPools } from '../../src/db/replica-set.js';
import type { Auth } from '../../src/graphql/auth.js';
import { createServer, type ParleyServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_JWT_SECRET = 'parley-test-secret-0123456789abcdef';

export interface GraphQLResult<Data> {
  status: number;
  data?: Data | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; field?: string; stacktrace?: unknown } }[];
  /** The response's extensions (`cost`). */
  extensions?: Record<string, unknown>;
  /** SQL statements the request sent (the x-sql-statements header). */
  statements: number;
  headers: Headers;
}

export interface RequestOptions {
  /** Sent as Authorization: Bearer <token>. */
  token?: string;
  headers?: Record<string, string>;
}

/** What a raw HTTP request got: the status, the headers, the body as text and, when it is JSON, parsed. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export interface RawRequest {
  /** Default: POST. */
  method?: string;
  /** Default: /graphql. */
  path?: string;
  headers?: Record<string, string>;
  /** Sent as it is; an object is sent as JSON. */
  body?: string | object;
}

export interface TestApi {
  database: TestDatabase;
  server: ParleyServer;
  /** Where the server listens, e.g. http://127.0.0.1:41234 */
  url: string;
  prisma: PrismaClient;
  auth: Auth;
  tokenFor(userId: number): Promise<string>;
  request<Data = Record<string, unknown>, Variables = Record<string, unknown>>(
    document: TypedDocumentNode<Data, Variables> | DocumentNode | string,
    variables?: Variables,
    options?: RequestOptions,
  ): Promise<GraphQLResult<Data>>;
  /** A request `request` cannot express: bad JSON, other methods and content types, protocol extensions. */
  send(request: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

/**
 * Starts a server on its own migrated database; `env` overrides the
 * configuration (DATALOADER_BATCH, …). The response cache and the loader
 * cache are off unless `env` turns them on (RESPONSE_CACHE: 'on',
 * LOADER_CACHE: 'on'): fixtures write with plain SQL, behind their back. With `redis`, it lives there; otherwise in the process.
 * Rate limits are on, with budgets no
 * suite reaches (every request of a file comes from one address); `env`
 * sets them, and an empty value stands for the default
 * (`RATE_LIMIT_POINTS: ''`). With `redis`, they are counted there. With
 * `clock`, the in-process stores read it (test/support/clock.ts).
 * `redis` and `redisSubscriber`, events go through Redis (instances sharing
 * it hear each other's writes); otherwise they stay in the process.
 */
/**
 * The request's SQL statement count from its x-sql-statements header; NaN
 * when the header is missing, so that a check of "no SQL ran" cannot pass
 * because the count was not reported at all.
 */
export function statementsOf(headers: Headers): number {
  const header = headers.get('x-sql-statements');
  return header === null ? Number.NaN : Number(header);
}

export async function startTestApi(
  env: Record<string, string> = {},
  database?: TestDatabase,
  options: { logStream?: NodeJS.WritableStream; checkRedis?: () => Promise<unknown>; redis?: Redis; redisSubscriber?: Redis; clock?: Clock } = {},
): Promise<TestApi> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    DATABASE_DIRECT_URL: db.directUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    RESPONSE_CACHE: 'off',
    LOADER_CACHE: 'off',
    RATE_LIMIT_POINTS: '1000000000',
    RATE_LIMIT_WRITES: '1000000000',
    ...env,
  });
  // DATABASE_REPLICA_URLS: pools opened here, as main.ts has openDatabase open them.
  const replicas = openReplicaPools(config.database, { applicationName: 'parley-test' });
  const server = await createServer(
    await createApp(config, {
      pool: db.pool,
      replicas,
      redis: options.redis,
      redisSubscriber: options.redisSubscriber,
      checkRedis: options.checkRedis,
      logStream: options.logStream,
      clock: options.clock,
    }),
  );
  await server.fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = server.fastify.server.address();
  if (!address || typeof address === 'string') throw new Error('the test server has no TCP address');
  const url = `http://127.0.0.1:${address.port}`;

  return {
    database: db,
    server,
    url,
    prisma: server.app.db.prisma,
    auth: server.app.auth,
    tokenFor: (userId) => server.app.auth.issueToken(userId),
    async request(document, variables, options = {}) {
      const query = typeof document === 'string' ? document : print(document);
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables: variables ?? {} }),
      });
      const body = (await response.json()) as Pick<GraphQLResult<never>, 'data' | 'errors' | 'extensions'>;
      return {
        status: response.status,
        data: body.data,
        errors: body.errors,
        extensions: body.extensions,
        statements: statementsOf(response.headers),
        headers: response.headers,
      };
    },
    async send({ method = 'POST', path = '/graphql', headers = {}, body }) {
      const json = body !== undefined && typeof body !== 'string';
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
        body: json ? JSON.stringify(body) : body,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, json: parsed };
    },
    async close() {
      await server.fastify.close();
      await server.app.close();
      await Promise.all(replicas.map((replica) => replica.pool.end()));
      await db.close();
    },
  };
}

/** The codes of a result's errors, in order. */
export function errorCodes(result: GraphQLResult<unknown>): (string | undefined)[] {
  return (result.errors ?? []).map((error) => error.extensions?.code);
}
