import { BadUserInputError } from '../../http/errors.js';

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

export function decodeCursor(cursor: string, argument: string): Keyset {
  const [at, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = at ? new Date(at) : undefined;
  if (extra !== undefined || !date || Number.isNaN(date.getTime()) || !id || !/^\d{1,19}$/.test(id)) {
    throw new BadUserInputError(`${argument}: not a cursor this API issued`, argument);
  }
  return { at: date, id };
}
