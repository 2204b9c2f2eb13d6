/**
 * Which database errors mean "the database cannot answer now" (down,
 * restarting, failing over, out of connections, too slow) rather than "this
 * statement or this code is wrong". The first kind is an outage: the same
 * request may succeed when retried, and clients are told so
 * (SERVICE_UNAVAILABLE); the second is a bug, masked and logged as one.
 * This file is the one place that knows how pg, pg-pool and Prisma's pg
 * adapter say it.
 */

/** Socket errors of a connection that could not be made or was cut. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * SQLSTATEs of an outage. 57014 is also a cancel someone asked for, but
 * nothing here cancels statements except statement_timeout.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '57P01', // admin_shutdown: pg_terminate_backend, a fast or smart shutdown
  '57P02', // crash_shutdown: another backend crashed, every session ends
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
]);

function isUnavailableSqlState(code: string): boolean {
  // Class 08, connection exceptions; 08P01 (protocol violation) is a driver bug, not an outage.
  return UNAVAILABLE_SQLSTATES.has(code) || (/^08[0-9A-Z]{3}$/.test(code) && code !== '08P01');
}

/**
 * What PgBouncer says, with SQLSTATE 08P01 (its code for all of its own
 * errors), when the database cannot be had through it: no server
 * connection freed up in time (query_wait_timeout: the server is down,
 * paused or every connection busy), the server connection died, logins to
 * the server keep failing, or the pooler is full.
 */
const POOLER_MESSAGES = new Set([
  'query_wait_timeout',
  'query timeout',
  'server conn crashed?',
  'server login has been failing, try again later (server_login_retry)',
  'client_login_timeout (server down)',
  'no more connections allowed (max_client_conn)',
]);

/** What pg and pg-pool throw, with no code, when a connection fails or cannot be had. */
const DRIVER_MESSAGES = new Set([
  'timeout exceeded when trying to connect', // pg-pool: no connection free within connectionTimeoutMillis
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool', // shutting down
]);

/** Prisma's codes for the same: can't reach, timed out, closed, pool timeout, too many connections. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/** The kinds @prisma/adapter-pg gives the socket errors it recognises (DriverAdapterError.cause.kind). */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  cause?: unknown;
  originalError?: unknown;
  /** graphql-js's wrapper of a thrown value that is not an Error (in this realm). */
  thrownValue?: unknown;
  meta?: { driverAdapterError?: unknown };
}

function saysUnavailable(error: ErrorLike): boolean {
  const { code, message, kind, originalCode } = error;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || PRISMA_CODES.has(code) || isUnavailableSqlState(code))) return true;
  if (code === '08P01' && typeof message === 'string' && POOLER_MESSAGES.has(message)) return true;
  // Prisma's adapter keeps the pg error's SQLSTATE as originalCode (its code is then P2039 or P2010).
  if (typeof originalCode === 'string' && isUnavailableSqlState(originalCode)) return true;
  if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
  return typeof message === 'string' && DRIVER_MESSAGES.has(message);
}

/**
 * Whether `error`, or what it wraps (a GraphQL error's originalError or
 * thrownValue, a cause, a Prisma error's driver adapter error), says the
 * database is unavailable.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null || seen.has(next)) continue;
    seen.add(next);
    const candidate = next as ErrorLike;
    if (saysUnavailable(candidate)) return true;
    pending.push(candidate.cause, candidate.originalError, candidate.thrownValue, candidate.meta?.driverAdapterError);
  }
  return false;
}

/** One line for a log: the SQLSTATE or socket code and the message, never a stack or a statement. */
export function describeDatabaseError(error: unknown): string {
  const { code, message } = (error ?? {}) as ErrorLike;
  const text = typeof message === 'string' ? message : String(error);
  return typeof code === 'string' ? `${code}: ${text}` : text;
}
