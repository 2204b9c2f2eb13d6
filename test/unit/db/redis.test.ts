import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { withinDeadline } from '../../../src/db/redis.js';

/** A reply over a real socket, from a server on another thread (as Redis is another process) that answers at once. */
async function echoServer() {
  const worker = new Worker(
    `const net = require('node:net');
     const { parentPort } = require('node:worker_threads');
     const server = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const client = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  return {
    ask: () =>
      new Promise<string>((resolve) => {
        client.once('data', (data) => resolve(data.toString()));
        client.write('pong');
      }),
    close: async () => {
      client.destroy();
      await worker.terminate();
    },
  };
}

const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

describe('withinDeadline', () => {
  it('accepts a reply that arrived in time while this process was busy past the deadline', async () => {
    const server = await echoServer();
    try {
      const reply = withinDeadline(server.ask(), 50);
      // The reply arrives within a millisecond; the event loop only looks after 120.
      block(120);
      await expect(reply).resolves.toBe('pong');
    } finally {
      await server.close();
    }
  });

  it('fails when no reply comes, naming the wait', async () => {
    const started = Date.now();
    await expect(withinDeadline(new Promise(() => {}), 50, 'response cache')).rejects.toThrow('response cache: no reply within 50 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('passes a failure through at once', async () => {
    await expect(withinDeadline(Promise.reject(new Error('connection is closed')), 50)).rejects.toThrow('connection is closed');
  });
});
