import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * The embedded default: PGlite (PostgreSQL compiled to WebAssembly) keeping
 * its data in a folder, served over the PostgreSQL wire protocol on
 * 127.0.0.1 so the rest of Parley talks to it exactly as to a real server.
 */
export interface EmbeddedPostgres {
  /** A postgresql:// URL for `pg` and Prisma. */
  url: string;
  stop(): Promise<void>;
}

// PGlite is one session; the socket server multiplexes client connections
// onto it and keeps a transaction's statements together. A few connections
// let the pool overlap network round trips; more would only queue.
const EMBEDDED_MAX_CONNECTIONS = 4;

export async function startEmbeddedPostgres(options: { dataDir: string; port: number }): Promise<EmbeddedPostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir });
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port,
    maxConnections: EMBEDDED_MAX_CONNECTIONS,
  });
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgresql://postgres:postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

export { EMBEDDED_MAX_CONNECTIONS };
