import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { PrismaClient } from '../db/prisma.js';
import type { StatementCounter } from '../db/statement-counter.js';
import type { Loaders } from '../modules/loaders.js';
import type { Viewer } from './viewer.js';

/** What every resolver receives; built fresh for each request by the /graphql handler's context function (src/http/server.ts). */
export interface Context {
  /** The signed-in user, or null. */
  viewer: Viewer | null;
  /** This request's DataLoaders: a batch per relation, a cache that dies with the request. */
  loaders: Loaders;
  db: Db;
  /** The SQL statements this request has sent so far. */
  sql: StatementCounter;
  /** The request's logger: its lines carry the request id the client got in x-request-id. */
  logger: FastifyBaseLogger;
}

export interface Db {
  pool: pg.Pool;
  prisma: PrismaClient;
}
