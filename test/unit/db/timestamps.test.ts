import pg from 'pg';
import { jest } from '@jest/globals';
import { parseTimestamptz, Timestamp } from '../../../src/db/timestamps.js';

const postgresDate = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => unknown;

/** What both parsers make of `text`, comparable with toEqual (Dates by their time, NaN included). */
const both = (text: string) => [parseTimestamptz(text), postgresDate(text)].map((value) => (value instanceof Date ? value.getTime() : value));

describe('parseTimestamptz', () => {
  it('reads what PostgreSQL prints as postgres-date does', () => {
    for (const text of [
      '2026-11-24 13:45:12.123+00',
      '2026-11-24 13:45:12+00',
      '2026-11-24 13:45:12.1+00',
      '2026-11-24 13:45:12.12+00',
      '2026-11-24 13:45:12.123456+00',
      '2026-11-24 13:45:12.999999+00',
      '2026-11-24 13:45:12.5+05:30',
      '2026-11-24 13:45:12-08',
      '2026-03-29 01:30:00+01',
      '1970-01-01 00:00:00+00',
      '1969-12-31 23:59:59.999-00:00:15',
      '0100-01-01 00:00:00+00',
      '9999-12-31 23:59:59.999+14',
      '2000-02-29 12:00:00+00',
    ]) {
      const [fast, reference] = both(text);
      expect({ text, time: fast }).toEqual({ text, time: reference });
    }
  });

  it('leaves what it does not know to postgres-date: BC, years outside 100 to 9999, infinity, other shapes', () => {
    for (const text of [
      '0044-03-15 12:00:00+00 BC',
      '0099-01-01 00:00:00+00',
      '12345-01-01 00:00:00+00',
      'infinity',
      '-infinity',
      '2026-11-24T13:45:12Z',
      '2026-11-24 13:45:12+5',
    ]) {
      const [fast, reference] = both(text);
      expect({ text, value: fast }).toEqual({ text, value: reference });
    }
  });

  it('agrees with postgres-date on ten thousand random timestamps, fractions and offsets', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pad = (value: number, width: number) => String(value).padStart(width, '0');
    for (let sample = 0; sample < 10_000; sample += 1) {
      const at = new Date(Date.UTC(1900, 0, 1) + random() * 200 * 365 * 86_400_000);
      const fraction = ['', '.1', '.12', '.123', '.1234', '.123456'][Math.floor(random() * 6)]!.replace(/\d/g, () => String(Math.floor(random() * 10)));
      const hours = Math.floor(random() * 15);
      const offset =
        random() < 0.5 ? '+00' : `${random() < 0.5 ? '-' : '+'}${pad(hours, 2)}${random() < 0.5 ? `:${pad(Math.floor(random() * 4) * 15, 2)}` : ''}`;
      const text =
        `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1, 2)}-${pad(at.getUTCDate(), 2)} ` +
        `${pad(at.getUTCHours(), 2)}:${pad(at.getUTCMinutes(), 2)}:${pad(at.getUTCSeconds(), 2)}${fraction}${offset}`;
      const [fast, reference] = both(text);
      if (fast !== reference) expect({ text, time: fast }).toEqual({ text, time: reference });
    }
  });
});

describe('Timestamp', () => {
  it("is a Date whose toISOString() is Date's, written once", () => {
    const read = parseTimestamptz('2026-11-24 13:45:12.123456+05:30');
    expect(read).toBeInstanceOf(Timestamp);
    expect(read).toBeInstanceOf(Date);
    const timestamp = read as Timestamp;
    const written = jest.spyOn(Date.prototype, 'toISOString');
    try {
      expect(timestamp.toISOString()).toBe('2026-11-24T08:15:12.123Z');
      // Kept: asked again (JSON.stringify asks through toJSON), not written again.
      expect(timestamp.toISOString()).toBe('2026-11-24T08:15:12.123Z');
      expect(JSON.stringify(timestamp)).toBe('"2026-11-24T08:15:12.123Z"');
      expect(written).toHaveBeenCalledTimes(1);
    } finally {
      written.mockRestore();
    }
    // Nothing of it shows as a property.
    expect(Object.keys(timestamp)).toEqual([]);
    // Any other Date: its own string.
    expect(new Date(Date.UTC(2000, 1, 29, 12)).toISOString()).toBe('2000-02-29T12:00:00.000Z');
  });

  it('is not made where the fast path does not read the text: postgres-date makes a Date', () => {
    const far = parseTimestamptz('0099-01-01 00:00:00+00');
    expect(far).not.toBeInstanceOf(Timestamp);
    expect((far as Date).toISOString()).toBe((postgresDate('0099-01-01 00:00:00+00') as Date).toISOString());
  });
});
