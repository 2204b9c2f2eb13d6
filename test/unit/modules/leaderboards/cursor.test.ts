import { decodeLeaderboardCursor, encodeLeaderboardCursor } from '../../../../src/modules/leaderboards/cursor.js';

const forge = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('leaderboard cursors', () => {
  it('round-trip', () => {
    const cursor = encodeLeaderboardCursor('xp', { value: 1200, userId: 42 });
    expect(decodeLeaderboardCursor('xp', cursor, 'after')).toEqual({ value: 1200, userId: 42 });
  });

  it.each([
    ['another leaderboard’s cursor', encodeLeaderboardCursor('xp_7d', { value: 1, userId: 1 })],
    ['a value beyond int4', forge('xp|2147483648|1')],
    ['a user id beyond int4', forge('xp|1|9999999999')],
    ['a negative value', forge('xp|-1|1')],
    ['a fraction', forge('xp|1.5|1')],
    ['an extra part', forge('xp|1|1|1')],
    ['a second spelling (padding)', `${encodeLeaderboardCursor('xp', { value: 1, userId: 1 })}=`],
    ['garbage', 'not-a-cursor'],
    ['nothing', ''],
  ])('refuse %s with BAD_USER_INPUT naming the argument', (_case, cursor) => {
    expect(() => decodeLeaderboardCursor('xp', cursor, 'after')).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'after' } }));
  });
});
