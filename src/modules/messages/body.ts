import { BadUserInputError } from '../../graphql/errors.js';

export const MAX_BODY_LENGTH = 4000;

/** A message body as stored: trimmed, 1 to 4000 characters (code points, as PostgreSQL's char_length counts). */
export function normalizeBody(body: string, field = 'input.body'): string {
  const trimmed = body.trim();
  const length = [...trimmed].length;
  if (length === 0) throw new BadUserInputError(`${field}: a message cannot be empty`, field);
  if (length > MAX_BODY_LENGTH) {
    throw new BadUserInputError(`${field}: at most ${MAX_BODY_LENGTH} characters (got ${length})`, field);
  }
  return trimmed;
}
