import { decodeSearchCursor, encodeSearchCursor, type SearchCursor } from '../../../../src/modules/search/cursor.js';

const forge = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const keyset = { at: new Date('2026-11-28T10:00:00.123Z'), id: '901' };

describe('search cursors', () => {
  it.each<[string, SearchCursor]>([
    ['newest', { order: 'NEWEST', keyset }],
    [
      'relevance, with a floor',
      { order: 'RELEVANCE', rank: '0.0607927', keyset, window: { top: keyset, floor: { at: new Date('2026-11-01T00:00:00.000Z'), id: '5' } } },
    ],
    ['relevance, a rank in exponent form', { order: 'RELEVANCE', rank: '1.5e-05', keyset, window: { top: keyset, floor: keyset } }],
  ])('round-trip: %s', (_case, cursor) => {
    expect(decodeSearchCursor(encodeSearchCursor(cursor), cursor.order, 'after')).toEqual(cursor);
  });

  it('refuse a cursor of the other order, saying which order it belongs to', () => {
    const newest = encodeSearchCursor({ order: 'NEWEST', keyset });
    expect(() => decodeSearchCursor(newest, 'RELEVANCE', 'after')).toThrow(/ordered by NEWEST; pass orderBy: NEWEST/);
  });

  it.each([
    ['a history cursor', forge('2026-11-28T10:00:00.123Z|901')],
    ['a negative rank', forge('relevance|-1|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901')],
    ['a rank that is not a number', forge('relevance|NaN|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901')],
    ['a rank spelled otherwise', forge('relevance|.5|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901')],
    ['no top', forge('relevance|0.5|2026-11-28T10:00:00.123Z|901|||||')],
    ['half a floor', forge('relevance|0.5|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901|2026-11-01T00:00:00.000Z|')],
    ['no floor', forge('relevance|0.5|2026-11-28T10:00:00.123Z|901|2026-11-28T10:00:00.123Z|901||')],
    ['a rolled-over date', forge('newest|2026-02-31T10:00:00.000Z|1')],
    ['an id beyond bigint', forge('newest|2026-11-28T10:00:00.123Z|9223372036854775808')],
    ['an extra part', forge('newest|2026-11-28T10:00:00.123Z|901|1')],
    ['SQL', forge("newest|2026-11-28T10:00:00.123Z|1'; DROP TABLE messages; --")],
    ['a second spelling (padding)', `${encodeSearchCursor({ order: 'NEWEST', keyset })}=`],
    ['garbage', 'not-a-cursor'],
    ['nothing', ''],
  ])('refuse %s with BAD_USER_INPUT naming the argument', (_case, cursor) => {
    expect(() => decodeSearchCursor(cursor, 'NEWEST', 'after')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
    expect(() => decodeSearchCursor(cursor, 'RELEVANCE', 'after')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
  });
});
