// Internal: a tsquery as PostgreSQL prints it ("'foo' & !( 'bar' <-> 'baz' )"),
// read back into a tree, for the two questions search asks before it
// chooses how to run: does the query need a word at all, and how many
// messages will it match.

/** A tsquery's tree: words, and the operators PostgreSQL prints between them. */
export type TsqueryNode =
  | { kind: 'word'; lexeme: string; prefix: boolean }
  | { kind: 'not'; operand: TsqueryNode }
  | { kind: 'and' | 'or' | 'phrase'; left: TsqueryNode; right: TsqueryNode };

/** A malformed tsquery text: not what PostgreSQL prints (a bug on our side, never the client's input). */
export class TsqueryTextError extends Error {
  constructor(text: string, position: number, expected: string) {
    super(`tsquery text ${JSON.stringify(text)}: expected ${expected} at ${position}`);
    this.name = 'TsqueryTextError';
  }
}

type Token = { type: 'word'; lexeme: string; prefix: boolean } | { type: 'operator'; value: '&' | '|' | '!' | '(' | ')' | 'phrase' };

// A quoted lexeme ('' stands for a quote, \\ for a backslash), then its
// optional weights and prefix flag (":*AB"); or an operator.
const TOKEN = /\s*(?:'((?:[^'\\]|''|\\.)*)'(?::([*A-Da-d]+))?|(<(?:-|\d+)>|[&|!()]))/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match) throw new TsqueryTextError(text, start, 'a quoted word or an operator');
    const [, quoted, flags, operator] = match;
    if (quoted !== undefined) tokens.push({ type: 'word', lexeme: unescapeLexeme(quoted), prefix: flags?.includes('*') ?? false });
    else if (operator!.startsWith('<')) tokens.push({ type: 'operator', value: 'phrase' });
    else tokens.push({ type: 'operator', value: operator as '&' | '|' | '!' | '(' | ')' });
  }
  return tokens;
}

/** A lexeme as PostgreSQL prints it inside quotes, unescaped: '' is a quote, a backslash escapes the next character. */
export function unescapeLexeme(quoted: string): string {
  return quoted.replace(/''|\\(.)/g, (escape, escaped: string | undefined) => escaped ?? "'");
}

/**
 * The tree of a tsquery's text, or null for the empty query (only stop
 * words, or no word at all). PostgreSQL's precedence, tightest first: `!`,
 * the phrase operators (`<->`, `<N>`), `&`, `|`.
 */
export function parseTsquery(text: string): TsqueryNode | null {
  const tokens = tokenize(text);
  if (tokens.length === 0) return null;
  let position = 0;
  const peek = () => tokens[position];
  const isOperator = (value: string) => {
    const token = peek();
    return token?.type === 'operator' && token.value === value;
  };
  const binary = (kind: 'and' | 'or' | 'phrase', operator: string, operand: () => TsqueryNode) => () => {
    let left = operand();
    while (isOperator(operator)) {
      position += 1;
      left = { kind, left, right: operand() };
    }
    return left;
  };
  const unary = (): TsqueryNode => {
    const token = peek();
    position += 1;
    if (token?.type === 'word') return { kind: 'word', lexeme: token.lexeme, prefix: token.prefix };
    if (token?.type === 'operator' && token.value === '!') return { kind: 'not', operand: unary() };
    if (token?.type === 'operator' && token.value === '(') {
      const inner = or();
      if (!isOperator(')')) throw new TsqueryTextError(text, position, ')');
      position += 1;
      return inner;
    }
    throw new TsqueryTextError(text, position - 1, 'a word, ! or (');
  };
  const phrase = binary('phrase', 'phrase', unary);
  const and = binary('and', '&', phrase);
  const or = binary('or', '|', and);
  const tree = or();
  if (position !== tokens.length) throw new TsqueryTextError(text, position, 'the end');
  return tree;
}

/**
 * True when the query matches a message that contains none of its words:
 * it is made of exclusions only (`-foo`, `foo or -bar`), so it matches
 * nearly everything, and no index can find it.
 */
export function matchesWithoutAnyWord(node: TsqueryNode): boolean {
  switch (node.kind) {
    case 'word':
      return false;
    case 'not':
      return !matchesWithoutAnyWord(node.operand);
    case 'or':
      return matchesWithoutAnyWord(node.left) || matchesWithoutAnyWord(node.right);
    default:
      return matchesWithoutAnyWord(node.left) && matchesWithoutAnyWord(node.right);
  }
}

/** The words a query looks for (under a `!` too), each once. */
export function lexemesOf(node: TsqueryNode): string[] {
  const words = new Set<string>();
  const visit = (current: TsqueryNode) => {
    if (current.kind === 'word') words.add(current.lexeme);
    else if (current.kind === 'not') visit(current.operand);
    else {
      visit(current.left);
      visit(current.right);
    }
  };
  visit(node);
  return [...words];
}

/**
 * What the planner's statistics say about words: the share of messages
 * holding each of the most common ones (pg_stats.most_common_elems of
 * messages.search_vector), and the smallest share it tracks.
 */
export interface WordFrequencies {
  /** Share of messages (0 to 1) holding each tracked word. */
  of: ReadonlyMap<string, number>;
  /** The least frequent tracked word's share: every untracked word is rarer. */
  minimum: number;
}

/** PostgreSQL's guess for a text search match when it has no statistics (DEFAULT_TS_MATCH_SEL). */
export const DEFAULT_MATCH_SHARE = 0.005;

/**
 * The share of messages the query matches, estimated as PostgreSQL's
 * planner does (tsmatchsel): a tracked word's frequency, half the smallest
 * tracked one for any other word, words independent of each other (`&` and
 * phrases multiply, `|` adds less the overlap, `!` complements).
 */
export function estimateMatchShare(node: TsqueryNode, frequencies: WordFrequencies | null): number {
  if (!frequencies) return DEFAULT_MATCH_SHARE;
  const untracked = frequencies.minimum / 2;
  const share = (current: TsqueryNode): number => {
    switch (current.kind) {
      case 'word': {
        if (!current.prefix) return frequencies.of.get(current.lexeme) ?? untracked;
        // A prefix matches every tracked word it starts, and more.
        let sum = 0;
        for (const [lexeme, frequency] of frequencies.of) if (lexeme.startsWith(current.lexeme)) sum += frequency;
        return Math.min(1, Math.max(sum, untracked));
      }
      case 'not':
        return 1 - share(current.operand);
      case 'or': {
        const [left, right] = [share(current.left), share(current.right)];
        return left + right - left * right;
      }
      default:
        return share(current.left) * share(current.right);
    }
  };
  return Math.min(1, Math.max(0, share(node)));
}
