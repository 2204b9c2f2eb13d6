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
}
