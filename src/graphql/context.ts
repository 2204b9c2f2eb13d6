import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { RequestPool } from '../db/pool.js';
import type { ReadRouting } from '../db/read-routing.js';
import type { PrismaClient } from '../db/prisma.js';
import type { OperationBudget } from './operation-budget.js';
import type { Viewer } from './viewer.js';

/**
 * What every resolver receives; built fresh for each operation by the app's
 * context factory (app/context.ts).
 *
 * This vocabulary imports no layer above it, so the members those layers
 * supply are declared by them and merged into this interface:
 * `loaders` (modules/loaders.ts), `writer` (writes/writer.ts) and
 * `observation` (observability/request-observation.ts).
 */
export interface Context {
  /** The signed-in user, or null. */
  viewer: Viewer | null;
  /** The database as this request sees it: its statements are recorded where something observes them (see observability/). */
  db: RequestDb;
  /** The request's logger: its lines carry the request id the client got in x-request-id. */
  logger: FastifyBaseLogger;
  /** The network address the request came from: a signed-out caller's rate-limit key. */
  clientAddress: string;
  /** This operation's cost and what is left of the caller's rate limit, filled in by the plugins before execution. */
  budget: OperationBudget;
}

export interface Db {
  pool: pg.Pool;
  prisma: PrismaClient;
}

/**
 * A request's Db: it sends statements and checks out connections, nothing
 * else of the pool's. This pool is the request's only way to the database,
 * so the recorder behind it (observability/statements.ts) sees every
 * statement the request sends, BEGIN and COMMIT included. Prisma is not
 * here: its adapter sends on the shared pool, where nothing could tell one
 * request's statements from another's without an async context, and a
 * client per request over the request's pool costs some 20 ms (measured on
 * Prisma 7.10: 4 ms to connect, 16 ms for its first query).
 */
export interface RequestDb {
  pool: RequestPool;
  /** Where its reads go, when there are read replicas (db/read-routing.ts); undefined without them. */
  routing?: ReadRouting;
}
