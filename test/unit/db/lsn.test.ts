import { formatLsn, laterLsn, lsnKey, parseLsn, parseLsnKey } from '../../../src/db/lsn.js';

describe('WAL positions', () => {
  it('reads and prints them as pg_lsn does', () => {
    expect(parseLsn('16/B374D848')).toBe(0x16b374d848n);
    expect(parseLsn('0/0')).toBe(0n);
    expect(parseLsn('FFFFFFFF/FFFFFFFF')).toBe(2n ** 64n - 1n);
    expect(formatLsn(0x16b374d848n)).toBe('16/B374D848');
    expect(formatLsn(parseLsn('0/3000060')!)).toBe('0/3000060');
  });

  it('refuses anything else, as a client may send anything in x-parley-lsn', () => {
    for (const text of ['', '16', '16/', '/1', '1/2/3', '123456789/0', '0x1/2', '-1/0', 'G/0', ' 0/1', undefined, null]) expect(parseLsn(text)).toBeUndefined();
  });

  it('keys them for Redis so that string order is position order', () => {
    const positions = [0n, 0x3000060n, 0xffffffffn, 0x100000000n, 0x16b374d848n];
    const keys = positions.map(lsnKey);
    expect(keys.every((key) => key.length === 16)).toBe(true);
    expect([...keys].sort()).toEqual(keys);
    expect(keys.map(parseLsnKey)).toEqual(positions);
    expect(parseLsnKey('16/B374D848')).toBeUndefined();
    expect(parseLsnKey(null)).toBeUndefined();
  });

  it('takes the later of two, either unknown', () => {
    expect(laterLsn(1n, 2n)).toBe(2n);
    expect(laterLsn(3n, undefined)).toBe(3n);
    expect(laterLsn(undefined, undefined)).toBeUndefined();
  });
});
