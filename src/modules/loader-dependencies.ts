import type pg from 'pg';
import type { Viewer } from '../graphql/viewer.js';

/** What every domain's loader factory is built from, once per request. */
export interface LoaderDependencies {
  pool: pg.Pool;
  viewer: Viewer | null;
  /** false builds every loader with `batch: false`: one statement per key, the benchmark's baseline. */
  batch: boolean;
}
