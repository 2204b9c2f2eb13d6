// The scripts docker-compose.yml mounts into PostgreSQL's
// /docker-entrypoint-initdb.d run on a new database, and again without harm.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const FOLDER = 'docker/postgres-init';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ empty: true });
});
afterAll(() => database?.close());

it('creates the pg_stat_statements extension, idempotently', async () => {
  const scripts = readdirSync(FOLDER)
    .filter((file) => file.endsWith('.sql'))
    .sort();
  expect(scripts.length).toBeGreaterThan(0);
  for (let run = 0; run < 2; run += 1) {
    for (const script of scripts) await database.pool.query(readFileSync(path.join(FOLDER, script), 'utf8'));
  }
  const { rows } = await database.pool.query("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'");
  expect(rows).toEqual([{ extname: 'pg_stat_statements' }]);
});
