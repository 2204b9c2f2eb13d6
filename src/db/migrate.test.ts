import { readMigrations, splitStatements } from './migrate.js';

describe('readMigrations', () => {
  it('reads the migrations in name order and runs index builds outside a transaction', async () => {
    const migrations = await readMigrations();
    const names = migrations.map((migration) => migration.name);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toMatch(/_init$/);
    for (const migration of migrations) {
      expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
      const concurrent = /CREATE INDEX CONCURRENTLY/.test(migration.sql);
      expect(migration.transactional).toBe(!concurrent);
      // every concurrent index build carries its written rollback
      if (concurrent) expect(migration.down).toMatch(/DROP INDEX CONCURRENTLY IF EXISTS/);
    }
  });
});

describe('splitStatements', () => {
  it('splits on semicolons that end a line and drops comments', () => {
    expect(splitStatements('-- why\nCREATE INDEX a ON t (x);\n\nDROP INDEX b;\n')).toEqual(['CREATE INDEX a ON t (x)', 'DROP INDEX b']);
  });
});
