// Internal: the setup the mutation-*.test.ts files share. Each file calls
// `useMutationApi()` once, at its top level: a Parley server on a database of
// the file's own starts before its tests and closes after them. `api` and
// `pool` are live bindings, set once the server has started (read them in
// tests and hooks, not at the top level of a file).
import type pg from 'pg';
import { startTestApi, type TestApi } from './api.js';

/** The file's server (see test/support/api.ts). */
export let api: TestApi;
/** Its database's pool: fixtures and read-backs, behind the API's back. */
export let pool: pg.Pool;

/** Registers the hooks that start the file's server before its tests and close it after. */
export function useMutationApi(): void {
  beforeAll(async () => {
    api = await startTestApi();
    pool = api.database.pool;
  });
  afterAll(() => api.close());
}

/** A moment `minutes` before now: fixtures in the past, so that what a mutation writes is the newest. */
export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
