import { GraphQLError } from 'graphql';
import { encodeCursor } from '../../../../src/graphql/relay/cursor.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageKey, parsePageArguments, type PageArguments } from '../../../../src/graphql/relay/page-arguments.js';

const cursorA = encodeCursor({ at: new Date('2026-03-01T10:00:00.000Z'), id: '17' });
const cursorB = encodeCursor({ at: new Date('2026-03-02T10:00:00.000Z'), id: '18' });

function errorOf(args: PageArguments): GraphQLError {
  try {
    parsePageArguments(args);
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error(`parsePageArguments accepted ${JSON.stringify(args)}`);
}

describe('parsePageArguments', () => {
  it('reads forward from the start by default, 20 rows', () => {
    expect(DEFAULT_PAGE_SIZE).toBe(20);
    expect(parsePageArguments({})).toEqual({ forward: true, size: DEFAULT_PAGE_SIZE, cursor: null });
    expect(parsePageArguments({ first: null, after: null, last: null, before: null })).toEqual({
      forward: true,
      size: DEFAULT_PAGE_SIZE,
      cursor: null,
    });
  });

  it('reads first / after forward', () => {
    const page = parsePageArguments({ first: 7, after: cursorA });
    expect(page.forward).toBe(true);
    expect(page.size).toBe(7);
    expect(page.cursor?.id).toBe('17');
    expect(page.cursor?.at.toISOString()).toBe('2026-03-01T10:00:00.000Z');
  });

  it('reads after alone with the default size', () => {
    expect(parsePageArguments({ after: cursorB })).toMatchObject({ forward: true, size: DEFAULT_PAGE_SIZE, cursor: { id: '18' } });
  });

  it('reads last / before backward, and before alone with the default size', () => {
    expect(parsePageArguments({ last: 3, before: cursorB })).toMatchObject({ forward: false, size: 3, cursor: { id: '18' } });
    expect(parsePageArguments({ last: 4 })).toEqual({ forward: false, size: 4, cursor: null });
    expect(parsePageArguments({ before: cursorA })).toMatchObject({ forward: false, size: DEFAULT_PAGE_SIZE, cursor: { id: '17' } });
  });

  it.each([0, 1, MAX_PAGE_SIZE])('accepts a size of %i in both directions', (size) => {
    expect(parsePageArguments({ first: size }).size).toBe(size);
    expect(parsePageArguments({ last: size }).size).toBe(size);
  });

  it.each<[PageArguments, string]>([
    [{ first: MAX_PAGE_SIZE + 1 }, 'first'],
    [{ first: -1 }, 'first'],
    [{ first: 2.5 }, 'first'],
    [{ first: 101, after: cursorA }, 'first'],
    [{ last: MAX_PAGE_SIZE + 1 }, 'last'],
    [{ last: -1 }, 'last'],
    [{ last: 1000, before: cursorA }, 'last'],
  ])('refuses the size of %j, naming %s', (args, field) => {
    expect(MAX_PAGE_SIZE).toBe(100);
    const error = errorOf(args);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe(field);
    expect(error.message).toContain(String(MAX_PAGE_SIZE));
  });

  it.each<PageArguments>([
    { first: 1, last: 1 },
    { first: 0, last: 0 },
    { first: 1, before: cursorA },
    { after: cursorA, last: 1 },
    { after: cursorA, before: cursorB },
  ])('refuses mixing the directions: %j', (args) => {
    const error = errorOf(args);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(['first', 'after']).toContain(error.extensions.field);
  });

  it.each<[PageArguments, string]>([
    [{ after: 'garbage' }, 'after'],
    [{ first: 5, after: 'garbage' }, 'after'],
    [{ before: 'garbage' }, 'before'],
    [{ last: 5, before: Buffer.from('x|y').toString('base64url') }, 'before'],
  ])('refuses a bad cursor in %j, naming %s', (args, field) => {
    const error = errorOf(args);
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
    expect(error.extensions.field).toBe(field);
  });
});

describe('pageKey', () => {
  it('is equal for equal requests and different for different ones', () => {
    const requests: PageArguments[] = [
      {},
      { first: 10 },
      { first: 10, after: cursorA },
      { first: 10, after: cursorB },
      { last: 10 },
      { last: 10, before: cursorA },
      { first: 11, after: cursorA },
    ];
    const keys = requests.map((args) => pageKey(parsePageArguments(args)));
    expect(new Set(keys).size).toBe(requests.length);
    expect(pageKey(parsePageArguments({ first: 10, after: cursorA }))).toBe(keys[2]);
    // The default is 20: asking for it explicitly is the same page.
    expect(pageKey(parsePageArguments({ first: 20 }))).toBe(keys[0]);
  });
});
