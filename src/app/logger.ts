import { createRequire } from 'node:module';
import type { FastifyBaseLogger } from 'fastify';
import { pino, type LoggerOptions } from 'pino';
import type { Config } from '../config.js';

/** How the log is written: JSON lines, or readable lines through pino-pretty. */
export type LoggerOutput = 'json' | 'pretty';

/**
 * The process's logger. JSON lines for machines (production, pipes, tests);
 * readable lines for a developer watching `npm run dev` in a terminal.
 * pino-pretty is a development dependency: where it is not installed (the
 * container image) the lines stay JSON.
 */
export function createLogger(config: Config, logStream: NodeJS.WritableStream | undefined): { logger: FastifyBaseLogger; output: LoggerOutput } {
  const options: LoggerOptions = { level: config.logLevel };
  if (logStream) return { logger: pino(options, logStream), output: 'json' };
  if (config.env === 'development' && process.stdout.isTTY && isInstalled('pino-pretty')) {
    // The request line's message says all of its `graphql` fields, on one line (http/observability.ts).
    const transport = { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,graphql' } };
    return { logger: pino({ ...options, transport }), output: 'pretty' };
  }
  // Written asynchronously: lines that come while a write is under way go
  // out together in the next, where each line was a write of its own (under
  // load, a write per request: about a tenth of a compiled read's CPU). pino
  // writes what is left before the process exits.
  return { logger: pino(options, pino.destination({ dest: 1, sync: false })), output: 'json' };
}

function isInstalled(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}
