import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { RequestPool } from '../db/pool.js';
import type { PrismaClient } from '../db/prisma.js';
import type { StatementCounter } from '../db/statement-counter.js';
import type { RequestObservation } from '../observability/request-observation.js';
import type { Realtime } from '../realtime/realtime.js';
import { recordingPool, tracer, untraced } from '../observability/statements.js';
import type { LoaderDependencies } from '../modules/loader-dependencies.js';
import type { Loaders } from '../modules/loaders.js';
import { createWriter, type AfterCommit, type Writer } from '../writes/writer.js';
import type { Auth } from './auth.js';
import type { OperationBudget } from './operation-budget.js';
import type { Viewer } from './viewer.js';

/** What every resolver receives; built fresh for each operation by createRequestContext. */
export interface Context {
  /** The signed-in user, or null. */
  viewer: Viewer | null;
  /** This request's DataLoaders: a batch per relation, a cache that dies with the request. */
  loaders: Loaders;
  /** The database as this request sees it: its statements are recorded where something observes them (see observability/). */
  db: RequestDb;
  /** The one write path: every mutation runs its transaction through it. */
  writer: Writer;
  /** The instance's real-time service (realtime/): the streams subscriptions return, and events no write publishes (typing). */
  realtime: Realtime;
  /** The SQL statements this request has sent so far; null where they are not counted (production). */
  sql: StatementCounter | null;
  /** The request's logger: its lines carry the request id the client got in x-request-id. */
  logger: FastifyBaseLogger;
  /** The network address the request came from: a signed-out caller's rate-limit key. */
  clientAddress: string;
  /** This operation's cost and what is left of the caller's rate limit, filled in by the plugins before execution. */
  budget: OperationBudget;
  /**
   * What the request log, the metrics and `extensions.sql` gather of this
   * request (observability/): its statements are recorded into it through
   * `db`, `loaders` and `writer`. Null where nothing observes.
   */
  observation: RequestObservation | null;
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

/** What stays the same for every request: made once by the composition root. */
export interface RequestContextDependencies {
  db: Db;
  auth: Auth;
  /** The loader set of a request (modules/loaders.ts), passed in so this vocabulary imports no domain. */
  createLoaders: (dependencies: LoaderDependencies) => Loaders;
  /** Forgets what a request's loaders have read (modules/loaders.ts): the first step after a write commits. */
  clearLoaders: (loaders: Loaders) => void;
  /** Further steps after a write commits, in order, with the tags it touched (cache invalidation, events). Default: none. */
  afterCommit?: readonly AfterCommit[];
  /** false builds every loader with `batch: false`: the benchmark's baseline. */
  batch: boolean;
  realtime: Realtime;
}

/** What one transport request (HTTP today; a WebSocket operation or a job later) brings. */
export interface RequestInput {
  /** The Authorization header's value, or a connection parameter carrying the same `Bearer <token>`. */
  authorization: string | undefined;
  logger: FastifyBaseLogger;
  sql: StatementCounter | null;
  /** The caller's network address (Fastify's request.ip). */
  clientAddress: string;
  /**
   * Records every statement the request sends, through its loaders (named),
   * resolvers and writer. Default: none, the pool as it is.
   */
  observation?: RequestObservation | null;
}

/** The context of one operation: its viewer from the token, and a fresh set of loaders. */
export async function createRequestContext(dependencies: RequestContextDependencies, input: RequestInput): Promise<Context> {
  const viewer = await dependencies.auth.viewerFromHeader(input.authorization);
  const observation = input.observation ?? null;
  const pool = observation ? recordingPool(dependencies.db.pool, observation) : dependencies.db.pool;
  const loaders = dependencies.createLoaders({ pool, viewer, batch: dependencies.batch, traced: observation ? tracer(observation) : untraced });
  const clearRequestLoaders: AfterCommit = () => dependencies.clearLoaders(loaders);
  return {
    viewer,
    loaders,
    db: observation ? { pool, prisma: dependencies.db.prisma } : dependencies.db,
    writer: createWriter(pool, [clearRequestLoaders, ...(dependencies.afterCommit ?? [])]),
    realtime: dependencies.realtime,
    sql: input.sql,
    logger: input.logger,
    clientAddress: input.clientAddress,
    budget: {},
    observation,
  };
}
