// Internal: the closed-loop load of `npm run bench`. A fixed number of
// workers each send a request, wait for its answer and send the next, so the
// offered load adapts to the server's speed (as 16 real clients would) and
// throughput and latency are measured together.
import { Client } from 'undici';
import { readCommandCpuMs, readMachineCpuMs, readProcessCpuMs } from './process-cpu.js';

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
  /**
   * The rest of the machine's CPU per completed request, in ms, where the
   * process under load shares the machine with the database and the load
   * (null where /proc is unavailable): what each request cost PostgreSQL
   * (every postgres process), and the process sending the load when that is
   * not the process under load (a server's; the floor sends its own).
   */
  postgresCpuMsPerRequest?: number | null;
  loadCpuMsPerRequest?: number | null;
  /** The share of the machine's CPU time (all cores) that was busy during the window, 0 to 1. */
  machineBusy?: number | null;
}

interface CpuReading {
  measured: number | null;
  postgres: number | null;
  load: number | null;
  machine: { busy: number; total: number } | null;
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
  const readCpu = (): CpuReading => ({
    measured: readProcessCpuMs(measuredPid),
    postgres: readCommandCpuMs('postgres'),
    load: measuredPid === process.pid ? null : readProcessCpuMs(process.pid),
    machine: readMachineCpuMs(),
  });
  let cpuAtStart: CpuReading | undefined;
  const startCpu = setTimeout(() => {
    cpuAtStart = readCpu();
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
  let cpuAtEnd: CpuReading | undefined;
  const endCpu = setTimeout(() => {
    cpuAtEnd = readCpu();
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
  const perRequest = (read: (reading: CpuReading) => number | null): number | null => {
    const start = cpuAtStart && read(cpuAtStart);
    const end = cpuAtEnd && read(cpuAtEnd);
    return typeof start === 'number' && typeof end === 'number' && completedInWindow > 0 ? (end - start) / completedInWindow : null;
  };
  const busy = perRequest((reading) => reading.machine?.busy ?? null);
  const total = perRequest((reading) => reading.machine?.total ?? null);
  return {
    throughput: completedInWindow / (window.durationMs / 1000),
    latencies,
    cpuMsPerRequest: perRequest((reading) => reading.measured),
    postgresCpuMsPerRequest: perRequest((reading) => reading.postgres),
    loadCpuMsPerRequest: perRequest((reading) => reading.load),
    machineBusy: busy !== null && total !== null && total > 0 ? busy / total : null,
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
