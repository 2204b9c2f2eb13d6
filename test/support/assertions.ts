// Internal: assertions the API tests share.
import type pg from 'pg';
import type { GraphQLResult } from './api.js';

/** Every table a mutation may write. */
const WRITABLE_TABLES = ['users', 'conversations', 'conversation_participants', 'messages', 'user_daily_activity'];

/** Every row of every table a mutation may write, in a stable order: equal before and after means nothing was written. */
export async function snapshotTables(pool: Pick<pg.Pool, 'query'>): Promise<Record<string, unknown[]>> {
  const result: Record<string, unknown[]> = {};
  for (const table of WRITABLE_TABLES) result[table] = (await pool.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
  return result;
}

/** A GraphQL error answered as such: status 200, one error with `code` (and `field`), no stack trace, no data. */
export function expectOneError(result: GraphQLResult<unknown>, code: string, field?: string) {
  expect(result.status).toBe(200);
  expect(result.data).toBeNull();
  expect(result.errors).toHaveLength(1);
  const error = result.errors![0]!;
  expect(error.extensions?.code).toBe(code);
  expect(error.extensions?.stacktrace).toBeUndefined();
  if (field !== undefined) expect(error.extensions?.field).toBe(field);
  return error;
}

/** Refused before anything ran, as graphql-js refuses variables that do not coerce: status 400, one error with `code` (and `field`), no data at all. */
export function expectRefusedBeforeRunning(result: GraphQLResult<unknown>, code: string, field?: string) {
  expect(result.status).toBe(400);
  expect(result.data).toBeUndefined();
  expect(result.errors).toHaveLength(1);
  const error = result.errors![0]!;
  expect(error.extensions?.code).toBe(code);
  expect(error.extensions?.stacktrace).toBeUndefined();
  if (field !== undefined) expect(error.extensions?.field).toBe(field);
  return error;
}

/**
 * The NOT_FOUND of an object that exists but is not the viewer's and the
 * NOT_FOUND of an id nothing has must not tell the two apart: each names its
 * own id, and apart from the id they are identical.
 */
export function expectIndistinguishable(
  existing: { error: NonNullable<GraphQLResult<unknown>['errors']>[number]; id: string },
  missing: { error: NonNullable<GraphQLResult<unknown>['errors']>[number]; id: string },
) {
  expect(existing.error.message).toContain(existing.id);
  expect(missing.error.message).toContain(missing.id);
  const withoutId = ({ error, id }: typeof existing) => ({ ...error, message: error.message.replace(id, '<id>') });
  expect(withoutId(existing)).toEqual(withoutId(missing));
}
