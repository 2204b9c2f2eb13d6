import { BIGINT_MAX } from '../../db/pool.js';
import { BadUserInputError } from '../errors.js';

/**
 * Keyset cursors: the sort key of a row, (timestamp, id), base64url-encoded
 * so clients treat it as opaque. A cursor that does not decode is bad input,
 * never a server error.
 */
export interface Keyset {
  at: Date;
  id: string;
}

export function encodeCursor(keyset: Keyset): string {
  return Buffer.from(`${keyset.at.toISOString()}|${keyset.id}`, 'utf8').toString('base64url');
}

/** What encodeCursor writes for a timestamp: toISOString of a year from 0000 to 9999. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A keyset from its two printed parts, or undefined. Only what encodeCursor
 * writes: a date it would print the same way (no rolled-over "02-31", no year
 * PostgreSQL cannot store) and an id that fits a bigint, so a forged cursor is
 * bad input rather than a failing statement. Other cursors that carry a
 * keyset (search's) read theirs with it.
 */
export function parseKeyset(at: string | undefined, id: string | undefined): Keyset | undefined {
  const date = at && ISO_TIMESTAMP.test(at) ? new Date(at) : undefined;
  if (!date || Number.isNaN(date.getTime()) || date.toISOString() !== at || !id || !/^\d{1,19}$/.test(id) || BigInt(id) > BIGINT_MAX) return undefined;
  return { at: date, id };
}

export function decodeCursor(cursor: string, argument: string): Keyset {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const keyset = extra === undefined ? parseKeyset(at, id) : undefined;
  // the one spelling encodeCursor gives (base64url decoding tolerates others)
  if (!keyset || encodeCursor(keyset) !== cursor) {
    throw new BadUserInputError(`${argument}: not a cursor this API issued`, argument);
  }
  return keyset;
}
