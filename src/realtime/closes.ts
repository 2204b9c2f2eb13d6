import { CloseCode } from 'graphql-ws';
import { ErrorCode } from '../graphql/errors.js';

/**
 * Parley's own WebSocket close codes, beside graphql-ws's CloseCode (4400
 * bad request, 4401 unauthorized, 4403 forbidden, 4406 subprotocol, 4408
 * init timeout, 4409 subscriber exists, 4429 too many inits, 4500 internal
 * error). None is one graphql-ws's client treats as final: it reconnects
 * after each, and the application resubscribes with its cursors.
 */
export enum ParleyCloseCode {
  /**
   * The server cannot promise it sent every event (the bus lost its
   * connection, the client fell behind): reconnect and resubscribe, with
   * `messageAdded(after:)` the cursor of the last message received.
   */
  Resume = 4410,
  /** The token given at connection_init expired: reconnect with a fresh one, then resume. */
  TokenExpired = 4419,
  /** This user already has REALTIME_SOCKETS_PER_USER sockets open on this instance. */
  TooManySockets = 4430,
  /** The server is shutting down (the standard WebSocket code): reconnect, to another instance, and resume. */
  GoingAway = 1001,
}

/** Why the server ends a socket or an HTTP subscription stream on its own. */
export type CloseReason = 'resume' | 'tokenExpired' | 'tooManySockets' | 'goingAway';

/** Each reason's WebSocket close code, and the `extensions.code` that ends an HTTP subscription stream for it. */
export const CLOSES: Record<CloseReason, { code: ParleyCloseCode; errorCode: ErrorCode; message: string }> = {
  resume: { code: ParleyCloseCode.Resume, errorCode: ErrorCode.Resume, message: 'Resume: subscribe again from your last cursor' },
  tokenExpired: { code: ParleyCloseCode.TokenExpired, errorCode: ErrorCode.TokenExpired, message: 'Token expired: reconnect with a fresh token' },
  tooManySockets: { code: ParleyCloseCode.TooManySockets, errorCode: ErrorCode.RateLimited, message: 'Too many sockets open for this user' },
  goingAway: { code: ParleyCloseCode.GoingAway, errorCode: ErrorCode.GoingAway, message: 'Going away: reconnect and resume' },
};

/** graphql-ws's codes, re-exported so transports name every code from here. */
export { CloseCode };

/**
 * A subscription's events may have been lost (the bus failed, the client
 * fell behind, the database could not fill a gap): its stream ends with
 * this, and the transport closes the socket with "resume".
 */
export class ResumeRequiredError extends Error {
  /**
   * @param detail what happened, for the logs
   * @param slowConsumer whether the client fell behind (counted apart from the bus's failures)
   */
  constructor(
    readonly detail: string,
    readonly slowConsumer = false,
  ) {
    super(`resume required: ${detail}`);
    this.name = 'ResumeRequiredError';
  }
}
