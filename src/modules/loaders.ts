import { createConversationLoaders } from './conversations/loaders.js';
import { createMessageLoaders } from './messages/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import type { UserRow } from './users/rows.js';
import type { LoaderDependencies } from './loader-dependencies.js';

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
