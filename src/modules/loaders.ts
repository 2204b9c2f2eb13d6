import { cachedBatches, type RequestUsers } from './cached-batch.js';
import { createConversationLoaders } from './conversations/loaders.js';
import { createMessageLoaders } from './messages/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import type { UserRow } from './users/rows.js';
import type { LoaderDependencies } from './loader-dependencies.js';

/**
 * Every loader of a request, by relation; called once per request, so the
 * loaders' own caches die with the request (what outlives it is the loader
 * cache's, checked against every write: dependencies.cache).
 */
export function createLoaders(dependencies: LoaderDependencies) {
  const requestUsers: RequestUsers = {
    prime: (user: UserRow) => {
      users.userById.prime(user.id, user);
    },
    load: (ids) => users.userById.loadMany(ids),
  };
  const cached = cachedBatches(dependencies, requestUsers);
  const users = createUserLoaders(dependencies, cached);
  return {
    ...users,
    ...createConversationLoaders(dependencies, cached, requestUsers.prime),
    ...createMessageLoaders(dependencies, cached, requestUsers.prime),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Forgets everything a request's loaders have read: after a write, the next read of the request sees it. */
export function clearLoaders(loaders: Loaders): void {
  for (const loader of Object.values(loaders)) loader.clearAll();
}

declare module '../graphql/context.js' {
  interface Context {
    /** This request's DataLoaders: a batch per relation, a cache that dies with the request. */
    loaders: Loaders;
  }
}
