// Internal: loaded by `npm run test:unit` (node --import) to hold the unit
// tier to its promise, that it needs no service: a connection to PostgreSQL
// or Redis (their default ports, and those of the URLs in the environment)
// fails at once, naming the tier where such a test belongs. Connections to
// what a test starts itself (a server on port 0) go through.
import net from 'node:net';

const ports = new Set([5432, 6379]);
for (const name of ['TEST_POSTGRES_URL', 'TEST_REDIS_URL', 'DATABASE_URL', 'REDIS_URL']) {
  const value = process.env[name];
  if (!value) continue;
  try {
    const url = new URL(value);
    ports.add(Number(url.port || (url.protocol.startsWith('redis') ? 6379 : 5432)));
  } catch {
    // Not a URL: the test that reads it will say so.
  }
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const port = Number(typeof first === 'object' && first !== null ? first.port : first);
  if (ports.has(port)) {
    const error = Object.assign(new Error(`unit tests use no services, and this one connected to port ${port}: move it to test/integration/`), {
      code: 'ECONNREFUSED',
    });
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
