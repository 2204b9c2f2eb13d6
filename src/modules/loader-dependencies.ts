import type { RequestLoaderCache } from '../cache/loader-cache.js';
import type { Queryable } from '../db/pool.js';
import type { Viewer } from '../graphql/viewer.js';
import type { Traced } from '../observability/statements.js';

/** What every domain's loader factory is built from, once per request. */
export interface LoaderDependencies {
  pool: Queryable;
  viewer: Viewer | null;
  /** false builds every loader with `batch: false`: one statement per key, the benchmark's baseline. */
  batch: boolean;
  /**
   * Wraps each loader's batch function with the loader's name, so that the
   * statements it sends and its batch sizes are told apart (observability/statements.ts);
   * `untraced` leaves them as they are.
   */
  traced: Traced;
  /**
   * The request's way to the loader cache (cache/loader-cache.ts): values
   * kept across requests, answered where no write changed them. Default:
   * none (LOADER_CACHE=off, a subscription's loaders), every key read from the database.
   */
  cache?: RequestLoaderCache;
}
