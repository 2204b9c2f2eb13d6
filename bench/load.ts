// Internal: the closed-loop load of `npm run bench`. A fixed number of
// workers each send a request, wait for its answer and send the next, so the
// offered load adapts to the server's speed (as 16 real clients would) and
// throughput and latency are measured together.
import { Client } from 'undici';
import { readProcessCpuMs } from './process-cpu.js';

export interface LoadWindow {
  /** Requests started before this are warm-up: they run, but are not counted. Milliseconds. */
  warmupMs: number;
  /** How long the counted window lasts, in milliseconds. */
  durationMs: number;
  /** Concurrent workers (connections). */
  connections: number;
}

export interface LoadSample {
  /** Requests completed per second inside the counted window. */
  throughput: number;
  /** The latency of each request completed inside the window, in milliseconds, in completion order. */
  latencies: number[];
  /** CPU time (user + system) of the process under load during the window, per completed request, in ms; null where /proc is unavailable. */
  cpuMsPerRequest: number | null;
}

/**
 * Runs `send` on `connections` workers for the warm-up and the window; each
 * worker gets its own index (its own connection). A failed request stops the
 * run: a benchmark of errors measures nothing.
 */
export async function runClosedLoop(window: LoadWindow, send: (worker: number) => Promise<void>, measuredPid: number = process.pid): Promise<LoadSample> {
  const started = performance.now();
  const windowStart = started + window.warmupMs;
  const windowEnd = windowStart + window.durationMs;
  const latencies: number[] = [];
  let cpuAtStart: number | null = null;
  const startCpu = setTimeout(() => {
    cpuAtStart = readProcessCpuMs(measuredPid);
  }, window.warmupMs);
  let failure: unknown;

  const worker = async (index: number) => {
    while (failure === undefined) {
      const sent = performance.now();
      if (sent >= windowEnd) return;
      try {
        await send(index);
      } catch (error) {
        failure ??= error;
        return;
      }
      const done = performance.now();
      if (sent >= windowStart && done <= windowEnd) latencies.push(done - sent);
    }
  };
  // Read the CPU clock when the window closes, not when the stragglers finish.
  let cpuAtEnd: number | null = null;
  const endCpu = setTimeout(() => {
    cpuAtEnd = readProcessCpuMs(measuredPid);
  }, window.warmupMs + window.durationMs);
  await Promise.all(Array.from({ length: window.connections }, (_unused, index) => worker(index)));
  clearTimeout(startCpu);
  clearTimeout(endCpu);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a worker caught, thrown on as it was
  if (failure !== undefined) throw failure;
  // A request that straddles the window's edge is not counted; completions
  // inside it over its length is the rate, as long as the run is many
  // requests long.
  const completedInWindow = latencies.length;
  return {
    throughput: completedInWindow / (window.durationMs / 1000),
    latencies,
    cpuMsPerRequest: cpuAtStart !== null && cpuAtEnd !== null && completedInWindow > 0 ? ((cpuAtEnd as number) - cpuAtStart) / completedInWindow : null,
  };
}

export interface GraphQLLoadTarget {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The JSON request body. */
  body: string;
  headers: Record<string, string>;
  /**
   * Bytes every answer must have: a shorter or longer one is an error or a
   * different answer. Null where answers change while the load runs (writes
   * beside it): then an answer must begin with data, not errors.
   */
  expectedBytes: number | null;
}

const DATA_PREFIX = Buffer.from('{"data":');

/**
 * One keep-alive connection per worker (undici Clients, not a shared pool, so
 * there are exactly `connections` sockets), each posting the same GraphQL
 * request. Answers are read to the end and checked by status and size, not
 * parsed: parsing 400 KB of JSON per answer would take the machine's CPU from
 * the server under test.
 */
export async function loadGraphQL(target: GraphQLLoadTarget, window: LoadWindow, serverPid: number): Promise<LoadSample> {
  const clients = Array.from({ length: window.connections }, () => new Client(target.origin, { pipelining: 1, keepAliveTimeout: 60_000 }));
  try {
    return await runClosedLoop(
      window,
      async (worker) => {
        const { statusCode, body } = await clients[worker]!.request({
          path: '/graphql',
          method: 'POST',
          headers: target.headers,
          body: target.body,
        });
        let bytes = 0;
        let head: Buffer | undefined;
        for await (const chunk of body) {
          head ??= chunk as Buffer;
          bytes += (chunk as Buffer).length;
        }
        const answered =
          target.expectedBytes === null ? head !== undefined && head.subarray(0, DATA_PREFIX.length).equals(DATA_PREFIX) : bytes === target.expectedBytes;
        if (statusCode !== 200 || !answered) {
          const expected = target.expectedBytes === null ? 'data and no errors' : `${target.expectedBytes} bytes`;
          throw new Error(
            `${target.origin} answered ${statusCode} with ${bytes} bytes (${head?.subarray(0, 200).toString() ?? ''}), expected 200 with ${expected}`,
          );
        }
      },
      serverPid,
    );
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}
