import type pg from 'pg';
import type { Viewer } from '../http/auth.js';
import { createConversationLoaders } from './conversations/loaders.js';
import { createMessageLoaders } from './messages/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import type { UserRow } from './users/rows.js';

export interface LoaderDependencies {
  pool: pg.Pool;
  viewer: Viewer | null;
  /** false builds every loader with `batch: false`: one statement per key, the benchmark's baseline. */
  batch: boolean;
}

/** Every loader of a request, by relation; called once per request, so nothing is shared between requests. */
export function createLoaders(dependencies: LoaderDependencies) {
  const users = createUserLoaders(dependencies);
  const primeUser = (user: UserRow) => {
    users.userById.prime(user.id, user);
  };
  return {
    ...users,
    ...createConversationLoaders(dependencies, primeUser),
    ...createMessageLoaders(dependencies, primeUser),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
