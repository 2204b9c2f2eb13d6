import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI only (`prisma generate`, and `prisma migrate deploy`
// where Prisma's schema engine is available). The application reads its
// settings from src/config.ts.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/parley' },
});
