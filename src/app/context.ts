import type { FastifyBaseLogger } from 'fastify';
import type { LoaderCache } from '../cache/loader-cache.js';
import type { Auth } from '../graphql/auth.js';
import { parseLsn } from '../db/lsn.js';
import { routeReads } from '../db/read-routing.js';
import type { ReplicaSet } from '../db/replica-set.js';
import type { WritePositions } from '../db/write-positions.js';
import type { Context, Db } from '../graphql/context.js';
import type { RequestObservation } from '../observability/request-observation.js';
import { recordingPool, tracer, untraced } from '../observability/statements.js';
import { clearLoaders, createLoaders } from '../modules/loaders.js';
import type { Realtime } from '../realtime/realtime.js';
import { createWriter, type AfterCommit } from '../writes/writer.js';

/** What stays the same for every request: made once by createApp. */
export interface ContextDependencies {
  db: Db;
  auth: Auth;
  /** Further steps after a write commits, in order, with the tags it touched (cache invalidation, events). Default: none. */
  afterCommit?: readonly AfterCommit[];
  /** false builds every loader with `batch: false`: the benchmark's baseline. */
  batch: boolean;
  /** The instance's real-time service, handed to resolvers (subscriptions, typing). */
  realtime: Realtime;
  /** Read replicas and the write positions reads are routed by (db/read-routing.ts). Default: none, every statement on the primary. */
  replicas?: { set: ReplicaSet; positions: WritePositions; cached: boolean };
  /** What loaders read, kept across requests (cache/loader-cache.ts). Default: none (LOADER_CACHE=off). */
  loaderCache?: LoaderCache;
}

/** What one transport request (an HTTP request, a WebSocket or HTTP subscription; a job later) brings. */
export interface RequestInput {
  /** The Authorization header's value, or a connection parameter carrying the same `Bearer <token>`. */
  authorization: string | undefined;
  logger: FastifyBaseLogger;
  /** The caller's network address (Fastify's request.ip). */
  clientAddress: string;
  /**
   * Records every statement the request sends, through its loaders (named),
   * resolvers and writer: the request log, the metrics, `extensions.sql` and
   * the x-sql-statements header all read it. Default: none, the pool as it is.
   */
  observation?: RequestObservation | null;
  /**
   * The x-parley-lsn request header: a WAL position (`16/B374D848`) the
   * client got with an earlier write's answer, which its reads must see.
   * Ignored when it is not one, and without read replicas. Default: none.
   */
  after?: string | undefined;
}

/** The context of one operation: its viewer from the token, and a fresh set of loaders. */
export async function createRequestContext(dependencies: ContextDependencies, input: RequestInput): Promise<Context> {
  const viewer = await dependencies.auth.viewerFromHeader(input.authorization);
  const observation = input.observation ?? null;
  const primary = observation ? recordingPool(dependencies.db.pool, observation) : dependencies.db.pool;
  const { replicas } = dependencies;
  const routed = replicas
    ? routeReads({
        replicas: replicas.set,
        positions: replicas.positions,
        primary,
        replicaPool: (pool) => (observation ? recordingPool(pool, observation) : pool),
        userId: viewer?.id,
        after: parseLsn(input.after),
        cached: replicas.cached,
      })
    : undefined;
  const pool = routed?.pool ?? primary;
  const loaders = createLoaders({
    pool,
    viewer,
    batch: dependencies.batch,
    traced: observation ? tracer(observation) : untraced,
    cache: dependencies.loaderCache?.forRequest({ routedReads: routed?.routing }),
  });
  const clearRequestLoaders: AfterCommit = () => clearLoaders(loaders);
  // First after a commit: the write's position is recorded before its invalidations run (db/write-positions.ts says why).
  const recordPosition: AfterCommit[] = routed ? [(_touched, _events, position) => routed.routing.wrote(position)] : [];
  return {
    viewer,
    loaders,
    db: routed ? { pool, routing: routed.routing } : { pool },
    writer: createWriter(pool, [...recordPosition, clearRequestLoaders, ...(dependencies.afterCommit ?? [])], { commitPosition: routed !== undefined }),
    realtime: dependencies.realtime,
    logger: input.logger,
    clientAddress: input.clientAddress,
    budget: {},
    observation,
  };
}
