import pg from 'pg';

// How `timestamptz` values come out of the database. pg parses them with
// postgres-date, a chain of regular expressions run on every value: on the
// reference inbox (some 2,500 timestamps per request) it was the largest
// single function of row parsing. PostgreSQL prints them in one shape
// (DateStyle ISO, the default): 'YYYY-MM-DD HH:MM:SS[.fraction]±HH[:MM[:SS]]',
// read here by position. Anything else (BC dates, years before 100 or after
// 9999, infinity, another DateStyle) goes to postgres-date as before.

const postgresDate = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text') as (text: string) => Date | number | null;

const ZERO = 48;
const DASH = 45;
const SPACE = 32;
const COLON = 58;
const DOT = 46;
const PLUS = 43;

/** The number written by the digits from `start` to `end`, or NaN where one is not a digit. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index += 1) {
    const digit = text.charCodeAt(index) - ZERO;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Seconds east of UTC of an offset written from `start` to the end: '00', '05:30', '05:30:15'; NaN for anything else. */
function offsetSeconds(text: string, start: number): number {
  const length = text.length - start;
  if (length === 2) return digits(text, start, start + 2) * 3600;
  if (length === 5 && text.charCodeAt(start + 2) === COLON) return digits(text, start, start + 2) * 3600 + digits(text, start + 3, start + 5) * 60;
  if (length === 8 && text.charCodeAt(start + 2) === COLON && text.charCodeAt(start + 5) === COLON) {
    return digits(text, start, start + 2) * 3600 + digits(text, start + 3, start + 5) * 60 + digits(text, start + 6, start + 8);
  }
  return Number.NaN;
}

/**
 * A `timestamptz` read from the database: a Date that writes its ISO string
 * once. The loader cache serves the same rows, the same Dates, to every
 * read until a write changes them, and the DateTime scalar wrote each one's
 * string again on every answer (5.5% of an inbox read's CPU after writes,
 * `npm run bench -- --modes after-write`). Nothing in Parley changes a Date
 * once made.
 */
export class Timestamp extends Date {
  #iso: string | undefined;

  override toISOString(): string {
    return (this.#iso ??= super.toISOString());
  }
}

/** A `timestamptz` as PostgreSQL prints it, as the Date postgres-date would make of it (milliseconds truncated, as Date does). */
export function parseTimestamptz(text: string): Date | number | null {
  if (
    text.length >= 22 &&
    text.charCodeAt(4) === DASH &&
    text.charCodeAt(7) === DASH &&
    text.charCodeAt(10) === SPACE &&
    text.charCodeAt(13) === COLON &&
    text.charCodeAt(16) === COLON
  ) {
    const year = digits(text, 0, 4);
    let index = 19;
    let milliseconds = 0;
    if (text.charCodeAt(index) === DOT) {
      index += 1;
      for (let scale = 100; index < text.length; index += 1, scale /= 10) {
        const digit = text.charCodeAt(index) - ZERO;
        if (digit < 0 || digit > 9) break;
        if (scale >= 1) milliseconds += digit * scale;
      }
    }
    const sign = text.charCodeAt(index);
    const offset = sign === PLUS || sign === DASH ? offsetSeconds(text, index + 1) : Number.NaN;
    // Date.UTC reads years 0 to 99 as 1900 to 1999: those go the long way.
    if (year >= 100 && !Number.isNaN(offset)) {
      const utc = Date.UTC(year, digits(text, 5, 7) - 1, digits(text, 8, 10), digits(text, 11, 13), digits(text, 14, 16), digits(text, 17, 19), milliseconds);
      if (!Number.isNaN(utc)) return new Timestamp(utc - (sign === PLUS ? offset : -offset) * 1000);
    }
  }
  return postgresDate(text);
}

/** pg's type parsers with parseTimestamptz for timestamptz: what createPool gives every pool. */
export const PARSERS: pg.CustomTypesConfig = {
  getTypeParser: (oid, format): unknown =>
    oid === pg.types.builtins.TIMESTAMPTZ && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format),
};
