import { readFile } from 'node:fs/promises';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { findSchemaDrift, readDatabaseShape, readPrismaDatamodel } from '../support/schema-drift.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

describe('schema.prisma and the migrated database', () => {
  it('agree on every table, column, type, nullability, primary key and relation', async () => {
    const drift = findSchemaDrift(await readPrismaDatamodel(), await readDatabaseShape(database.pool));
    expect(drift).toEqual([]);
  });

  it('disagree when a migration adds a column that schema.prisma lacks', async () => {
    await database.pool.query('ALTER TABLE users ADD COLUMN nickname text');
    try {
      const drift = findSchemaDrift(await readPrismaDatamodel(), await readDatabaseShape(database.pool));
      expect(drift).toEqual(['users.nickname: column in the database but not in model User']);
    } finally {
      await database.pool.query('ALTER TABLE users DROP COLUMN nickname');
    }
  });

  it('disagree when schema.prisma has a field, a nullability or a relation the database lacks', async () => {
    const schema = await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
    const edited = schema
      .replace('  avatarUrl    String?   @map("avatar_url")', '  avatarUrl    String?   @map("avatar_url")\n  nickname     String?')
      .replace('  body           String\n', '  body           String?\n');
    expect(edited).not.toBe(schema);
    const drift = findSchemaDrift(await readPrismaDatamodel(edited), await readDatabaseShape(database.pool));
    expect(drift).toEqual(['User.nickname: no column "users.nickname" in the database', 'Message.body: optional in schema.prisma, NOT NULL in the database']);
  });

  it('compare Unsupported("…") fields too, which Prisma\'s DMMF leaves out', async () => {
    await database.pool.query('ALTER TABLE messages RENAME COLUMN search_vector TO search_document');
    try {
      const drift = findSchemaDrift(await readPrismaDatamodel(), await readDatabaseShape(database.pool));
      expect(drift).toEqual([
        'Message.searchVector: no column "messages.search_vector" in the database',
        'messages.search_document: column in the database but not in model Message',
      ]);
    } finally {
      await database.pool.query('ALTER TABLE messages RENAME COLUMN search_document TO search_vector');
    }
  });

  it('disagree when a foreign key is missing', async () => {
    await database.pool.query('ALTER TABLE messages DROP CONSTRAINT messages_author_id_fkey');
    try {
      const drift = findSchemaDrift(await readPrismaDatamodel(), await readDatabaseShape(database.pool));
      expect(drift).toEqual(['Message: relation author_id -> users(id) on delete Cascade in schema.prisma has no foreign key in the database']);
    } finally {
      await database.pool.query('ALTER TABLE messages ADD CONSTRAINT messages_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id) ON DELETE CASCADE');
    }
  });
});
