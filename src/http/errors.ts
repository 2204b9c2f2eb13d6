import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';

/** Every `extensions.code` Parley answers with. */
export enum ErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  BadUserInput = 'BAD_USER_INPUT',
  RateLimited = 'RATE_LIMITED',
  QueryTooComplex = 'QUERY_TOO_COMPLEX',
  InternalServerError = 'INTERNAL_SERVER_ERROR',
}

abstract class ParleyError extends GraphQLError {
  protected constructor(message: string, code: ErrorCode, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
  }
}

export class UnauthenticatedError extends ParleyError {
  constructor(message = 'Sign in first: send Authorization: Bearer <token>.') {
    super(message, ErrorCode.Unauthenticated);
  }
}

export class ForbiddenError extends ParleyError {
  constructor(message: string) {
    super(message, ErrorCode.Forbidden);
  }
}

/** Also what a non-participant gets for a conversation that exists: it does not exist for them. */
export class NotFoundError extends ParleyError {
  constructor(what: string, id: string) {
    super(`${what} ${id} not found.`, ErrorCode.NotFound);
  }
}

export class BadUserInputError extends ParleyError {
  /** @param field the argument or input field at fault, as a path ("input.body") */
  constructor(message: string, field?: string) {
    super(message, ErrorCode.BadUserInput, field ? { field } : {});
  }
}

// Codes Apollo Server and graphql-js set themselves for malformed requests.
const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

export interface FormatErrorOptions {
  /** Logs an unexpected error; called once per masked error. Default: nothing. */
  logUnexpected?: (error: unknown) => void;
  /** Keep stack traces in responses (development only). Default: false. */
  includeStacktrace?: boolean;
}

/**
 * Apollo's formatError: errors we raised on purpose pass through; anything
 * else (a bug, a database error) is logged and masked, so no SQL, stack or
 * internal message reaches a client. Never throws.
 */
export function createFormatError(options: FormatErrorOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const code = formatted.extensions?.code;
    const expected = original instanceof ParleyError || (typeof code === 'string' && PUBLIC_CODES.has(code) && code !== ErrorCode.InternalServerError);
    if (expected) {
      if (options.includeStacktrace) return formatted;
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    try {
      options.logUnexpected?.(original);
    } catch {
      // logging must not turn a masked error into an unmasked one
    }
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.InternalServerError },
    };
  };
}
