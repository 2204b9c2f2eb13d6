import {
  estimateMatchShare,
  lexemesOf,
  matchesWithoutAnyWord,
  parseTsquery,
  TsqueryTextError,
  unescapeLexeme,
  type WordFrequencies,
} from '../../../../src/modules/search/tsquery.js';

// The texts are what PostgreSQL 15 prints for websearch_to_tsquery('english', …) and to_tsquery.
describe('parseTsquery', () => {
  it('reads words, operators and PostgreSQL’s precedence (! then <-> then & then |)', () => {
    expect(parseTsquery("'foo' | 'bar' & !( 'baz' <-> 'qux' ) & 'zap'")).toEqual({
      kind: 'or',
      left: { kind: 'word', lexeme: 'foo', prefix: false },
      right: {
        kind: 'and',
        left: {
          kind: 'and',
          left: { kind: 'word', lexeme: 'bar', prefix: false },
          right: {
            kind: 'not',
            operand: { kind: 'phrase', left: { kind: 'word', lexeme: 'baz', prefix: false }, right: { kind: 'word', lexeme: 'qux', prefix: false } },
          },
        },
        right: { kind: 'word', lexeme: 'zap', prefix: false },
      },
    });
  });

  it('reads <N> as a phrase, and weights and prefixes after a word', () => {
    expect(parseTsquery("'foo':*AB & 'bar' <2> 'baz'")).toEqual({
      kind: 'and',
      left: { kind: 'word', lexeme: 'foo', prefix: true },
      right: { kind: 'phrase', left: { kind: 'word', lexeme: 'bar', prefix: false }, right: { kind: 'word', lexeme: 'baz', prefix: false } },
    });
  });

  it("unescapes '' and backslashes inside a word", () => {
    expect(parseTsquery("'it''s' & 'c\\\\d'")).toEqual({
      kind: 'and',
      left: { kind: 'word', lexeme: "it's", prefix: false },
      right: { kind: 'word', lexeme: 'c\\d', prefix: false },
    });
    expect(unescapeLexeme("a''b\\\\c\\'")).toBe("a'b\\c'");
  });

  it('is null for the empty query (only stop words)', () => {
    expect(parseTsquery('')).toBeNull();
    expect(parseTsquery('  ')).toBeNull();
  });

  it.each(["'foo' &", "'foo' 'bar'", "( 'foo'", "'foo", '&', "'foo' )"])('throws on text PostgreSQL does not print: %j', (text) => {
    expect(() => parseTsquery(text)).toThrow(TsqueryTextError);
  });
});

describe('matchesWithoutAnyWord', () => {
  it.each([
    ["!'foo'", true],
    ["'foo' | !'bar'", true],
    ["!( 'foo' & 'bar' )", true],
    ["'foo' & !'bar'", false],
    ["'foo'", false],
    ["'foo' <-> 'bar' | 'baz'", false],
  ])('%s → %s', (text, expected) => {
    expect(matchesWithoutAnyWord(parseTsquery(text)!)).toBe(expected);
  });
});

describe('lexemesOf', () => {
  it('lists every word once, negated ones included', () => {
    expect(lexemesOf(parseTsquery("'a' & !'b' | 'a' <-> 'c'")!)).toEqual(['a', 'b', 'c']);
  });
});

describe('estimateMatchShare', () => {
  const frequencies: WordFrequencies = {
    of: new Map([
      ['need', 0.12],
      ['program', 0.08],
      ['progress', 0.01],
    ]),
    minimum: 0.002,
  };

  it('takes a tracked word’s share, and half the smallest tracked one for any other', () => {
    expect(estimateMatchShare(parseTsquery("'need'")!, frequencies)).toBeCloseTo(0.12);
    expect(estimateMatchShare(parseTsquery("'pillbox'")!, frequencies)).toBeCloseTo(0.001);
  });

  it('multiplies for & and phrases, adds less the overlap for |, complements for !', () => {
    expect(estimateMatchShare(parseTsquery("'need' & 'program'")!, frequencies)).toBeCloseTo(0.0096);
    expect(estimateMatchShare(parseTsquery("'need' <-> 'program'")!, frequencies)).toBeCloseTo(0.0096);
    expect(estimateMatchShare(parseTsquery("'need' | 'program'")!, frequencies)).toBeCloseTo(0.12 + 0.08 - 0.0096);
    expect(estimateMatchShare(parseTsquery("'need' & !'program'")!, frequencies)).toBeCloseTo(0.12 * 0.92);
  });

  it('sums the tracked words a prefix starts', () => {
    expect(estimateMatchShare(parseTsquery("'prog':*")!, frequencies)).toBeCloseTo(0.09);
  });

  it('falls back to PostgreSQL’s default without statistics', () => {
    expect(estimateMatchShare(parseTsquery("'need'")!, null)).toBe(0.005);
  });
});
