// timestamptz values read through createPool's parsers are the instants
// PostgreSQL holds, whatever the session's time zone prints them in, and
// the same Dates pg's own parser (postgres-date) makes of the same text.
import pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { createPool, withClient } from '../../src/db/pool.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const postgresDate = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date;

let database: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(database.url, loadConfig({ DATABASE_URL: database.url, DATABASE_DIRECT_URL: database.directUrl }).database);
});
afterAll(async () => {
  await pool.end();
  await database.close();
});

describe('timestamptz through createPool', () => {
  it.each(['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Europe/Paris'])(
    'reads the instants PostgreSQL holds in a session at %s',
    async (zone) => {
      await withClient(pool, async (client) => {
        await client.query(`SET TimeZone = '${zone}'`);
        const { rows } = await client.query<{ at: Date; text: string; epoch_ms: string }>(
          `SELECT at, at::text AS text, (extract(epoch FROM at) * 1000)::bigint::text AS epoch_ms
         FROM unnest(ARRAY['2026-11-24 13:45:12.123+00', '2026-03-29 01:30:00.5+00', '1999-12-31 23:59:59.999+00', '2026-06-01 00:00:00+00']::timestamptz(3)[]) AS at`,
        );
        expect(rows).toHaveLength(4);
        for (const row of rows) {
          expect(row.at).toBeInstanceOf(Date);
          expect(row.at.getTime()).toBe(Number(row.epoch_ms));
          expect(row.at.getTime()).toBe(postgresDate(row.text).getTime());
        }
        await client.query('RESET TimeZone');
      });
    },
  );
});
