// Internal: a log stream a test server writes its JSON lines to, read back by the test.
import { Writable } from 'node:stream';

export interface LogEntry {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

/** pino's number for the error level: lines at or above it page someone. */
export const ERROR_LEVEL = 50;

export interface CapturedLog {
  stream: Writable;
  entries(): LogEntry[];
  /** Entries at error level or above: what an alert on the log would fire on. */
  errors(): LogEntry[];
}

export function captureLog(): CapturedLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const entries = () => lines.map((line) => JSON.parse(line) as LogEntry);
  return { stream, entries, errors: () => entries().filter((entry) => entry.level >= ERROR_LEVEL) };
}
