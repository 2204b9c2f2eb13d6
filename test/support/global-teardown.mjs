// Stops this run's PgBouncer, if it started one, then drops its template
// and every database copied from it.
import pg from 'pg';

export default async function globalTeardown() {
  // What this run's setup made, never a template named by an inherited variable.
  const made = globalThis.parleyTestTemplate;
  if (!made) return;
  const { template, postgresUrl, pgbouncer } = made;
  await pgbouncer?.close();
  const admin = new pg.Client({ connectionString: postgresUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(`SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')`, [template]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
