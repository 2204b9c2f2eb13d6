import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { RequestPool } from '../db/pool.js';
import type { PrismaClient } from '../db/prisma.js';
import type { StatementCounter } from '../db/statement-counter.js';
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
  /** The SQL statements this request has sent so far; null where they are not counted (production). */
  sql: StatementCounter | null;
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

/** A request's Db: it sends statements and checks out connections, nothing else of the pool's. */
export interface RequestDb {
  pool: RequestPool;
  prisma: PrismaClient;
}
