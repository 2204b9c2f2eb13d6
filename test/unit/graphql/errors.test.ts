import { GraphQLError } from 'graphql';
import pg from 'pg';
import { Prisma } from '../../../src/generated/prisma/client.js';
import {
  BadUserInputError,
  createFormatError,
  ErrorCode,
  NotFoundError,
  QueryTooComplexError,
  SERVICE_UNAVAILABLE_MESSAGE,
} from '../../../src/graphql/errors.js';

const format = (error: unknown, includeStacktrace = false) => {
  const graphQLError = error instanceof GraphQLError ? error : new GraphQLError((error as Error).message, { originalError: error as Error, path: ['viewer'] });
  const formatted = { ...graphQLError.toJSON(), extensions: { ...graphQLError.extensions, stacktrace: ['at somewhere'] } };
  return createFormatError({ includeStacktrace })(formatted, graphQLError);
};

describe('createFormatError', () => {
  it('passes errors raised on purpose through, without the stack trace', () => {
    expect(format(new BadUserInputError('input.body: too long', 'input.body'))).toEqual({
      message: 'input.body: too long',
      extensions: { code: ErrorCode.BadUserInput, field: 'input.body' },
    });
    expect(format(new NotFoundError('Conversation', 'abc')).extensions).toEqual({ code: ErrorCode.NotFound });
  });

  it('keeps the stack trace of an expected error when asked (development)', () => {
    expect(format(new NotFoundError('Conversation', 'abc'), true).extensions?.stacktrace).toEqual(['at somewhere']);
  });

  it('masks anything else, whatever it says, even in development', () => {
    const masked = format(new Error('relation "users" does not exist at SELECT secret FROM ...'), true);
    expect(masked).toEqual({ message: 'Internal server error', path: ['viewer'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });

  it('masks an error that claims a public code but is not ours', () => {
    const claimed = new GraphQLError('leaky', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(format(claimed).message).toBe('Internal server error');
  });

  describe('an outage of the database', () => {
    const sqlState = (code: string, message: string) => Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code });
    const socket = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, syscall: 'connect', errno: -111 });
    const prisma = (code: string, originalCode?: string) =>
      new Prisma.PrismaClientKnownRequestError('Database error', {
        code,
        clientVersion: 'test',
        meta: originalCode ? { driverAdapterError: { name: 'DriverAdapterError', cause: { kind: 'postgres', originalCode } } } : {},
      });

    it.each([
      ['the server terminated the connection (57P01)', sqlState('57P01', 'terminating connection due to administrator command')],
      ['the server is starting up (57P03)', sqlState('57P03', 'the database system is starting up')],
      ['a statement timeout (57014)', sqlState('57014', 'canceling statement due to statement timeout')],
      ['a connection exception (08006)', sqlState('08006', 'connection failure')],
      ['too many connections (53300)', sqlState('53300', 'sorry, too many clients already')],
      ['the database refusing connections', socket('ECONNREFUSED')],
      ['a connection reset', socket('ECONNRESET')],
      ['the pool wait timing out', new Error('timeout exceeded when trying to connect')],
      ['a connection lost mid-statement', new Error('Connection terminated unexpectedly')],
      ['Prisma unable to reach the database (P1001)', prisma('P1001')],
      ['Prisma told by the adapter of a terminated connection', prisma('P2039', '57P01')],
      ['PgBouncer finding no server connection in time (08P01)', sqlState('08P01', 'query_wait_timeout')],
      ['PgBouncer losing its server connection (08P01)', sqlState('08P01', 'server conn crashed?')],
    ])('is SERVICE_UNAVAILABLE, without details: %s', (_case, error) => {
      expect(format(error, true)).toEqual({
        message: SERVICE_UNAVAILABLE_MESSAGE,
        path: ['viewer'],
        extensions: { code: ErrorCode.ServiceUnavailable },
      });
    });

    it.each([
      ['a unique violation (23505)', sqlState('23505', 'duplicate key value violates unique constraint')],
      ['a missing table (42P01)', sqlState('42P01', 'relation "users" does not exist')],
      ['a serialization failure (40001)', sqlState('40001', 'could not serialize access')],
      ['a protocol violation (08P01), a driver bug', sqlState('08P01', 'invalid message format')],
      ['a bug whose message mentions a connection', new Error('Connection terminated? no: TypeError in a resolver')],
      ['a Prisma unique violation (P2002)', prisma('P2002')],
      ['Prisma passing on a missing table', prisma('P2039', '42P01')],
    ])('is not an outage, so stays masked as INTERNAL_SERVER_ERROR: %s', (_case, error) => {
      expect(format(error).extensions).toEqual({ code: ErrorCode.InternalServerError });
    });
  });
});

describe('createFormatError, for refusals before anything runs', () => {
  it('answers the uncoded 4xx refusals Apollo makes itself (an APQ hash mismatch) as BAD_REQUEST', () => {
    const mismatch = new GraphQLError('provided sha does not match query', { extensions: { http: { status: 400 } } });
    const formatted = createFormatError()({ message: mismatch.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, mismatch);
    expect(formatted).toEqual({ message: 'provided sha does not match query', extensions: { code: 'BAD_REQUEST' } });
    // A fault that happens to carry a status is still masked: it has an original error.
    const fault = new GraphQLError('connection refused', { originalError: new Error('connection refused'), extensions: { http: { status: 400 } } });
    expect(createFormatError()({ message: fault.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, fault).message).toBe('Internal server error');
  });

  it('keeps our code on our error wrapped by Apollo as a validation error', () => {
    const ours = new QueryTooComplexError('too deep', 'depth', 16, 15);
    const wrapped = new GraphQLError(ours.message, { originalError: ours, extensions: { ...ours.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } });
    const formatted = createFormatError()({ message: wrapped.message, extensions: { ...wrapped.extensions } }, wrapped);
    expect(formatted.extensions).toMatchObject({ code: ErrorCode.QueryTooComplex, limit: 'depth', maximum: 15, found: 16 });
  });

  it('drops "Did you mean" from any client error when asked (production), and only then', () => {
    const message = 'Variable "$m" got invalid value "XPP"; Value "XPP" does not exist in "LeaderboardMetric" enum. Did you mean the enum value "XP"?';
    const error = new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
    expect(createFormatError({ hideSuggestions: true })({ message, extensions: { code: 'BAD_USER_INPUT' } }, error).message).toBe(
      'Variable "$m" got invalid value "XPP"; Value "XPP" does not exist in "LeaderboardMetric" enum.',
    );
    expect(createFormatError()({ message, extensions: { code: 'BAD_USER_INPUT' } }, error).message).toBe(message);
  });
});
