import { GraphQLError } from 'graphql';
import { decodeCursor, encodeCursor, type Keyset } from '../../../../src/graphql/relay/cursor.js';

const raw = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** The error decodeCursor throws for `cursor`, or fails the test. */
function decodeError(cursor: string, argument = 'after'): GraphQLError {
  try {
    decodeCursor(cursor, argument);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error(`decodeCursor accepted ${JSON.stringify(cursor)}`);
}

describe('encodeCursor / decodeCursor', () => {
  it.each<Keyset>([
    { at: new Date('2026-01-01T00:00:00.000Z'), id: '1' },
    { at: new Date('2026-11-23T09:30:00.123Z'), id: '42' },
    { at: new Date('1999-12-31T23:59:59.999Z'), id: '9223372036854775807' },
  ])('round-trips $at / $id', (keyset) => {
    const cursor = encodeCursor(keyset);
    const decoded = decodeCursor(cursor, 'after');
    expect(decoded.at.getTime()).toBe(keyset.at.getTime());
    expect(decoded.id).toBe(keyset.id);
  });

  it('is opaque: URL-safe, and shows neither the id nor the timestamp in clear', () => {
    const cursor = encodeCursor({ at: new Date('2026-05-05T05:05:05.005Z'), id: '123456' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('123456');
    expect(cursor).not.toContain('2026');
  });

  it('gives different rows different cursors, ties on time included', () => {
    const at = new Date('2026-01-01T00:00:00.000Z');
    const cursors = new Set([encodeCursor({ at, id: '1' }), encodeCursor({ at, id: '2' }), encodeCursor({ at: new Date(at.getTime() + 1), id: '1' })]);
    expect(cursors.size).toBe(3);
  });

  it.each([
    ['empty', ''],
    ['not base64 of anything', '!!!!'],
    ['random text', 'garbage'],
    ['no separator', raw('2026-01-01T00:00:00.000Z')],
    ['no id', raw('2026-01-01T00:00:00.000Z|')],
    ['no time', raw('|12')],
    ['a time that is not one', raw('yesterday|12')],
    ['a time in another format', raw('2026-01-01 00:00:00|12')],
    ['a day that does not exist', raw('2026-02-31T00:00:00.000Z|12')],
    ['a year PostgreSQL cannot store', raw(`${new Date(Date.UTC(-5000, 0, 1)).toISOString()}|12`)],
    ['an id that is not a number', raw('2026-01-01T00:00:00.000Z|abc')],
    ['a negative id', raw('2026-01-01T00:00:00.000Z|-1')],
    ['a fractional id', raw('2026-01-01T00:00:00.000Z|1.5')],
    ['an id beyond bigint', raw('2026-01-01T00:00:00.000Z|9223372036854775808')],
    ['an id of 20 digits', raw('2026-01-01T00:00:00.000Z|12345678901234567890')],
    ['an extra part', raw('2026-01-01T00:00:00.000Z|12|13')],
    ['a global id', raw('Message:12')],
    ['a second spelling of a cursor (padding)', `${raw('2026-01-01T00:00:00.000Z|12')}==`],
  ])('refuses %s as BAD_USER_INPUT naming the argument', (_case, cursor) => {
    const error = decodeError(cursor, 'before');
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe('before');
    expect(error.message).toMatch(/^before: /);
  });
});
