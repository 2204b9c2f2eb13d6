import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { isDatabaseUnavailable } from '../db/unavailable.js';

/** Every `extensions.code` Parley answers with. */
export enum ErrorCode {
  Unauthenticated = 'UNAUTHENTICATED',
  Forbidden = 'FORBIDDEN',
  NotFound = 'NOT_FOUND',
  BadUserInput = 'BAD_USER_INPUT',
  RateLimited = 'RATE_LIMITED',
  QueryTooComplex = 'QUERY_TOO_COMPLEX',
  /** The database could not answer (down, restarting, out of connections, too slow): retry in a few seconds. */
  ServiceUnavailable = 'SERVICE_UNAVAILABLE',
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

/** Refused before running: the operation could return more than the server answers in one request. */
export class QueryTooComplexError extends ParleyError {
  constructor(cost: number, maximumCost: number) {
    super(
      `This operation could cost ${cost}, over the limit of ${maximumCost}: ask for smaller pages (first/last) or fewer nested lists.`,
      ErrorCode.QueryTooComplex,
      // Refused like an invalid document: HTTP 400, nothing ran.
      { cost, maximumCost, http: { status: 400 } },
    );
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

/**
 * Whether an error was raised on purpose (ours, or Apollo's and graphql-js's
 * for a malformed request) and may be shown as it is; anything else is a
 * bug or an outage, to be logged and masked.
 */
export function isExpectedError(error: unknown, code: unknown = (error as GraphQLError | undefined)?.extensions?.code): boolean {
  const original = unwrapResolverError(error);
  return original instanceof ParleyError || (typeof code === 'string' && PUBLIC_CODES.has(code) && code !== ErrorCode.InternalServerError);
}

export interface FormatErrorOptions {
  /** Keep stack traces in responses (development only). Default: false. */
  includeStacktrace?: boolean;
}

/** What a client is told when the database could not answer: no cause, no SQL, only that a retry may succeed. */
export const SERVICE_UNAVAILABLE_MESSAGE = 'The service is unavailable for a moment: retry in a few seconds.';

/**
 * Apollo's formatError: errors we raised on purpose pass through; an outage
 * of the database (db/unavailable.ts decides) becomes SERVICE_UNAVAILABLE,
 * which a client may retry; anything else (a bug) is masked, so no SQL,
 * stack or internal message reaches a client (logUnexpectedErrorsPlugin logs
 * it). Never throws.
 */
export function createFormatError(options: FormatErrorOptions = {}) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (isExpectedError(error, formatted.extensions?.code)) {
      if (options.includeStacktrace) return formatted;
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    const outage = isDatabaseUnavailable(error);
    return {
      message: outage ? SERVICE_UNAVAILABLE_MESSAGE : 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: outage ? ErrorCode.ServiceUnavailable : ErrorCode.InternalServerError },
    };
  };
}
