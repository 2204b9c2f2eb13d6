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
  /** A kind of operation this server does not run (subscriptions, until they exist). */
  OperationNotSupported = 'OPERATION_NOT_SUPPORTED',
  /** PERSISTED_QUERIES=allowlist: the operation, by text or hash, is not one of clients/operations/ (Apollo Router's code). */
  PersistedQueryNotInList = 'PERSISTED_QUERY_NOT_IN_LIST',
  /** A subscription ended because events may have been missed: subscribe again from the last cursor received (WebSocket close 4410). */
  Resume = 'RESUME',
  /** A subscription ended because its token expired: subscribe again with a fresh token (WebSocket close 4419). */
  TokenExpired = 'TOKEN_EXPIRED',
  /** A subscription ended because the server is shutting down: subscribe again, to another instance (WebSocket close 1001). */
  GoingAway = 'GOING_AWAY',
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

/** The limits an operation is measured against before it runs (docs/api.md, "Limits"). */
export type OperationLimit = 'cost' | 'depth' | 'fragmentDepth' | 'nesting' | 'nodes' | 'aliases' | 'rootFields';

/**
 * Refused before running: the operation is larger than the server answers
 * in one request. `extensions` say which limit, its maximum and what the
 * operation has, so a client can tell what to shrink.
 */
export class QueryTooComplexError extends ParleyError {
  constructor(message: string, limit: OperationLimit, found: number, maximum: number) {
    // Refused like an invalid document: HTTP 400, nothing ran.
    super(message, ErrorCode.QueryTooComplex, { limit, maximum, found, http: { status: 400 } });
  }
}

export interface BadUserInputOptions {
  /**
   * Set when the whole request is refused before anything runs, as graphql-js
   * refuses variables that do not coerce: HTTP 400. Default: a field's error
   * in a 200 response.
   */
  httpStatus?: 400;
}

export class BadUserInputError extends ParleyError {
  /** @param field the argument or input field at fault, as a path ("input.body") */
  constructor(message: string, field?: string, options: BadUserInputOptions = {}) {
    super(message, ErrorCode.BadUserInput, {
      ...(field ? { field } : {}),
      ...(options.httpStatus ? { http: { status: options.httpStatus } } : {}),
    });
  }
}

/** Something the request needs is down for a moment (the event bus's Redis): retry in a few seconds; HTTP 503. */
export class ServiceUnavailableError extends ParleyError {
  constructor(message = SERVICE_UNAVAILABLE_MESSAGE) {
    super(message, ErrorCode.ServiceUnavailable, { http: { status: 503 } });
  }
}

/** An operation of a kind this transport does not run; HTTP 400. */
export class OperationNotSupportedError extends ParleyError {
  constructor(message: string) {
    super(message, ErrorCode.OperationNotSupported, { http: { status: 400 } });
  }
}

/** An operation outside the allow-list (PERSISTED_QUERIES=allowlist); HTTP 400, nothing parsed or run. */
export class PersistedQueryNotInListError extends ParleyError {
  constructor(message: string) {
    super(message, ErrorCode.PersistedQueryNotInList, { http: { status: 400 } });
  }
}

// Ours but INTERNAL_SERVER_ERROR, and the codes Apollo Server and graphql-js
// set themselves for malformed requests.
const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.InternalServerError),
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
  return parleyErrorOf(error) !== undefined || isUncodedRequestError(error) || (typeof code === 'string' && PUBLIC_CODES.has(code));
}

/** Our error behind `error`: itself, the one a resolver threw, or the one Apollo wrapped (a validation rule's). */
function parleyErrorOf(error: unknown): ParleyError | undefined {
  const unwrapped = unwrapResolverError(error);
  if (unwrapped instanceof ParleyError) return unwrapped;
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  return original instanceof ParleyError ? original : undefined;
}

/**
 * A few refusals Apollo raises before running anything carry a 4xx status
 * but no code (an APQ hash that does not match its query, an unknown APQ
 * version): the client's fault, answered as BAD_REQUEST rather than masked.
 * A GraphQLError with no original error was made on purpose, not by a fault.
 */
function isUncodedRequestError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500;
}

// What graphql-js appends to a message naming something the client did not ask
// about: "Cannot query field "viewr" on type "Query". Did you mean "viewer"?"
const SUGGESTION = / ?Did you mean(.+?)\?$/;

export interface FormatErrorOptions {
  /** Keep stack traces in responses (development only). Default: false. */
  includeStacktrace?: boolean;
  /**
   * Drop "Did you mean …?" from messages, so a client learns no field,
   * argument, type or enum value it did not name (production, where
   * introspection is off too). Apollo's hideSchemaDetailsFromClientErrors does
   * this for validation errors only; this covers variable coercion too.
   * Default: false.
   */
  hideSuggestions?: boolean;
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
      const message = options.hideSuggestions ? formatted.message.replace(SUGGESTION, '') : formatted.message;
      const { stacktrace, ...extensions } = formatted.extensions ?? {};
      if (isUncodedRequestError(error)) extensions.code = 'BAD_REQUEST';
      // Apollo codes every validation error GRAPHQL_VALIDATION_FAILED, ours (operation limits) included.
      const ours = parleyErrorOf(error);
      if (ours) extensions.code = ours.extensions.code;
      return { ...formatted, message, extensions: options.includeStacktrace && stacktrace !== undefined ? { ...extensions, stacktrace } : extensions };
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
