import { readMigrations, splitStatements } from '../../../src/db/migrate.js';

describe('readMigrations', () => {
  it('reads the migrations in name order and runs index builds outside a transaction', async () => {
    const migrations = await readMigrations();
    const names = migrations.map((migration) => migration.name);
    expect(names).toEqual([...names].sort());
    expect(names[0]).toMatch(/_init$/);
    for (const migration of migrations) {
      expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
      const builds = /CREATE INDEX CONCURRENTLY/.test(migration.sql);
      const drops = /DROP INDEX CONCURRENTLY/.test(migration.sql);
      const commits = /^\s*COMMIT;/m.test(migration.sql);
      expect(migration.transactional).toBe(!builds && !drops && !commits);
      // a backfill that commits its batches can be run again: its written rollback only forgets it
      if (commits) expect(migration.down).toBeDefined();
      // every concurrent index change carries its written rollback: a build's drops the index, a drop's builds it again
      if (builds) expect(migration.down).toMatch(/DROP INDEX CONCURRENTLY IF EXISTS/);
      if (drops) expect(migration.down).toMatch(/CREATE INDEX CONCURRENTLY IF NOT EXISTS/);
    }
  });
});

describe('splitStatements', () => {
  it('splits on semicolons that end a line and drops comments', () => {
    expect(splitStatements('-- why\nCREATE INDEX a ON t (x);\n\nDROP INDEX b;\n')).toEqual(['CREATE INDEX a ON t (x)', 'DROP INDEX b']);
  });

  it('keeps a dollar-quoted body whole, whatever its lines end with', () => {
    const block = 'DO $$\nBEGIN\n  UPDATE t SET x = 1;\n  COMMIT;\nEND\n$$';
    const tagged = 'CREATE FUNCTION f() RETURNS int AS $body$\nBEGIN\n  RETURN $$;$$::text;\nEND\n$body$ LANGUAGE plpgsql';
    expect(splitStatements(`${block};\n${tagged};\nSELECT 1;\n`)).toEqual([block, tagged, 'SELECT 1']);
  });

  it('reads a comment-only script as no statement', () => {
    expect(splitStatements('-- nothing to undo\n')).toEqual([]);
  });
});
