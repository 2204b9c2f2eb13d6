// Internal: the loaders' way to the loader cache (cache/loader-cache.ts):
// a batch function that answers from it the keys whose values no write
// changed, reads the rest from the database in one statement as before,
// and keeps what it read.
import type DataLoader from 'dataloader';
import type { LoaderCacheLookup } from '../cache/loader-cache.js';
import { tags, type Tag } from '../writes/tags.js';
import type { LoaderDependencies } from './loader-dependencies.js';
import type { UserRow } from './users/rows.js';

/**
 * How one loader's values are kept across requests.
 *
 * Users are kept apart, each under its own key and tag (`User:<id>`), and
 * values that hold users (a page's authors, a conversation's participants)
 * keep their ids only: a write that changes a user (sendMessage adds to the
 * author's XP) then drops that user, not every page and participant list
 * they appear in; and the statement that reads the conversation the write
 * changed brings the user's new row along, to every value that needs it.
 */
export interface CachedRelation<Key, Value, Kept> {
  /**
   * `shared`: the loader's statement does not read the viewer, so one value
   * serves every viewer (its callers check that the viewer may see it, as
   * they do before loading). `viewer`: it does (or the value is the
   * viewer's own), and values are kept per viewer; signed out, nothing is kept.
   */
  scope: 'shared' | 'viewer';
  /** The key as a string, unique for the loader (with the viewer added for `viewer`). */
  key(key: Key): string;
  /**
   * What is kept of a value: the value without its users, the tags of what
   * it holds (a write touching one drops it), and its users. Undefined: not
   * kept (a missing row: no write names what could create it).
   */
  keep(value: Value, key: Key): { kept: Kept; tags: Tag[]; users: readonly UserRow[] } | undefined;
  /** The value again, from what was kept and its users. */
  restore(kept: Kept, user: (id: number) => UserRow): Value;
}

/** The users a request's loaders share: userById's. */
export interface RequestUsers {
  /** Primes the request's userById with a user a value holds (as the loaders' statements do). */
  prime: (user: UserRow) => void;
  /** Users by id, through the request's userById (batched, and itself answered from the cache where it can). */
  load: (ids: readonly number[]) => Promise<ArrayLike<UserRow | null | Error>>;
}

/** What the cache holds for a value: what was kept, and the users it needs. */
interface Stored<Kept> {
  kept: Kept;
  userIds: readonly number[];
  /**
   * The value as last restored, and its users then (in userIds' order): the
   * next request whose users are the same objects (no write changed one
   * since) is given it again instead of a new one (a page of 20 messages is
   * 20 objects). Nothing changes a loaded value. Set when the value is
   * kept, as the statement's rows made it: counted in the entry's size.
   */
  restored?: { value: unknown; users: readonly UserRow[] };
}

/** The loader that keeps users: the values that hold users refer to its keys. */
export const USERS_LOADER = 'userById';

/**
 * The loader cache's key of a user (USERS, under USERS_LOADER), made once
 * per user (each read looks up hundreds; a key made again is hashed again).
 * Bounded: emptied at 16,384 users.
 */
const userKeys = new Map<number, string>();
function userKey(id: number): string {
  let key = userKeys.get(id);
  if (key === undefined) {
    if (userKeys.size >= 16_384) userKeys.clear();
    userKeys.set(id, (key = `${USERS_LOADER}:${id}`));
  }
  return key;
}

/** What the cache keeps of a user row: itself. */
export const USERS: CachedRelation<number, UserRow | null, UserRow> = {
  scope: 'shared',
  key: String,
  keep: (user) => (user ? { kept: user, tags: [tags.user(user.id)], users: [] } : undefined),
  restore: (user) => user,
};

/** Wraps a loader's batch function (see cachedBatches). */
export type CachedBatches = <Key, Value, Kept>(
  name: string,
  // Key and Value come from the batch function.
  relation: CachedRelation<NoInfer<Key>, NoInfer<Value>, Kept>,
  load: DataLoader.BatchLoadFn<Key, Value>,
) => DataLoader.BatchLoadFn<Key, Value>;

/**
 * Batch functions that go through the request's loader cache; without one
 * (LOADER_CACHE=off, a subscription's loaders), the loaders' own. Wrap the
 * traced batch function (observability/statements.ts names a statement by
 * the loader sending it while the function runs, and this one sends after
 * asking the cache).
 * @param users the request's userById, for the users of values found in the cache whose own rows changed
 */
export function cachedBatches({ cache, viewer }: Pick<LoaderDependencies, 'cache' | 'viewer'>, users: RequestUsers): CachedBatches {
  return <Key, Value, Kept>(
    name: string,
    relation: CachedRelation<NoInfer<Key>, NoInfer<Value>, Kept>,
    load: DataLoader.BatchLoadFn<Key, Value>,
  ): DataLoader.BatchLoadFn<Key, Value> => {
    if (!cache) return load;
    const scope = relation.scope === 'viewer' ? (viewer ? `${name}@${viewer.id}:` : undefined) : `${name}:`;
    if (scope === undefined) return load;
    return async (keys) => {
      const cacheKeys = keys.map((key) => scope + relation.key(key));
      const lookup = await cache.lookup(name, cacheKeys);
      // Users read by this batch's statement, newer than any the cache holds.
      const fresh = new Map<number, UserRow>();
      const userOf = (id: number) => fresh.get(id) ?? (lookup.values.get(userKey(id)) as Stored<UserRow> | undefined)?.kept;
      // The users handed to restored values, each found and primed once (a page of 20 messages names
      // a few authors many times), until this batch's own statement brings newer ones (fresh).
      let given = new Map<number, UserRow>();
      const userFor = (id: number) => {
        let user = given.get(id);
        if (user) return user;
        user = userOf(id);
        // The batch asked for each missing user before restoring.
        if (!user) throw new Error(`${name}: user ${id} missing from the loader cache and the database`);
        users.prime(user);
        given.set(id, user);
        return user;
      };
      const restore = (stored: Stored<Kept>): Value => {
        const last = stored.restored;
        // userFor primes each user, as restoring does.
        if (last && stored.userIds.every((id, index) => userFor(id) === last.users[index])) return last.value as Value;
        const value = relation.restore(stored.kept, userFor);
        // In place of the last: the same objects but new users, so about the size counted for it when kept.
        stored.restored = { value, users: stored.userIds.map(userFor) };
        return value;
      };

      const values: (Value | Error)[] = new Array<Value | Error>(keys.length);
      const missing: number[] = [];
      const incomplete: [index: number, stored: Stored<Kept>][] = [];
      for (const [index, cacheKey] of cacheKeys.entries()) {
        const stored = lookup.values.get(cacheKey) as Stored<Kept> | undefined;
        if (!stored) missing.push(index);
        else if (stored.userIds.every((id) => given.has(id) || userOf(id))) values[index] = restore(stored);
        else incomplete.push([index, stored]);
      }

      if (missing.length > 0) {
        given = new Map();
        const loaded = await load(missing.map((index) => keys[index]!));
        for (const [position, index] of missing.entries()) {
          const value = loaded[position]!;
          values[index] = value;
          if (!(value instanceof Error)) keep(lookup, fresh, cacheKeys[index]!, value, relation.keep(value, keys[index]!));
        }
      }

      // Values found unchanged whose users changed: those users, unless this batch's statement brought them.
      if (incomplete.length > 0) {
        const wanted = [...new Set(incomplete.flatMap(([, stored]) => stored.userIds))].filter((id) => !userOf(id));
        const loaded = await users.load(wanted);
        for (const [position, id] of wanted.entries()) {
          const user = loaded[position];
          if (user && !(user instanceof Error)) fresh.set(id, user);
        }
        given = new Map();
        for (const [index, stored] of incomplete) values[index] = restore(stored);
      }
      return values;
    };
  };
}

/** Keeps a value read from the database (as restored already, with its users), and each of its users under the user's own key. */
function keep<Kept>(
  lookup: LoaderCacheLookup,
  fresh: Map<number, UserRow>,
  cacheKey: string,
  value: unknown,
  kept: { kept: Kept; tags: Tag[]; users: readonly UserRow[] } | undefined,
): void {
  if (!kept) return;
  const userIds = kept.users.map((user) => user.id);
  lookup.keep(cacheKey, { kept: kept.kept, userIds, restored: { value, users: kept.users } } satisfies Stored<Kept>, kept.tags, userIds.map(userKey));
  for (const user of kept.users) {
    if (fresh.has(user.id)) continue;
    fresh.set(user.id, user);
    lookup.keep(userKey(user.id), { kept: user, userIds: [] } satisfies Stored<UserRow>, [tags.user(user.id)]);
  }
}
